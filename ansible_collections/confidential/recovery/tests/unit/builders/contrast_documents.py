# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Contrast Coordinator certificates with evidence from the software platforms: SEV-SNP (snp_documents) as
go-sev-guest's Attestation protobuf, TDX (tdx_documents) as go-tdx-guest's QuoteV4; and the manifest
ReferenceValues entry that describes the SNP ones."""

from __future__ import annotations

import hashlib
import struct

from cryptography.hazmat.primitives.serialization import Encoding
from snp_documents import LAUNCH_DIGEST, POLICY_SMT, TCB, SoftwareSnp
from vtpm_documents import atls_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._idblock import id_key_digest
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote
from ansible_collections.confidential.recovery.plugins.module_utils._generated import sevsnp_pb2, tdx_pb2

OID = "1.3.9901.2.1"
POLICY_HASH = hashlib.sha256(b"the coordinator's policy").hexdigest()
GUEST_POLICY = {"ABIMinor": 0, "ABIMajor": 0, "SMT": True, "MigrateMA": False, "Debug": False}


def reference_entry(**changes) -> dict:
    entry = {
        "ProductName": "Milan",
        "TrustedMeasurement": LAUNCH_DIGEST.hex(),
        "GuestPolicy": dict(GUEST_POLICY),
        "MinimumTCB": {
            "BootloaderVersion": TCB["bootloader"],
            "TEEVersion": TCB["tee"],
            "SNPVersion": TCB["snp"],
            "MicrocodeVersion": TCB["microcode"],
        },
        "PlatformInfo": {"SMTEnabled": True},
    }
    entry.update(changes)
    return entry


def _proto_report(raw: bytes):
    def u32(offset: int) -> int:
        return struct.unpack_from("<I", raw, offset)[0]

    def u64(offset: int) -> int:
        return struct.unpack_from("<Q", raw, offset)[0]

    return sevsnp_pb2.Report(
        version=u32(0),
        guest_svn=u32(4),
        policy=u64(8),
        family_id=raw[0x10:0x20],
        image_id=raw[0x20:0x30],
        vmpl=u32(0x30),
        signature_algo=u32(0x34),
        current_tcb=u64(0x38),
        platform_info=u64(0x40),
        signer_info=u32(0x48),
        report_data=raw[0x50:0x90],
        measurement=raw[0x90:0xC0],
        host_data=raw[0xC0:0xE0],
        id_key_digest=raw[0xE0:0x110],
        author_key_digest=raw[0x110:0x140],
        report_id=raw[0x140:0x160],
        report_id_ma=raw[0x160:0x180],
        reported_tcb=u64(0x180),
        chip_id=raw[0x1A0:0x1E0],
        committed_tcb=u64(0x1E0),
        launch_tcb=u64(0x1F0),
        signature=raw[0x2A0:0x4A0],
    )


def coordinator_certificate(
    platform: SoftwareSnp,
    nonce: bytes,
    policy: int = POLICY_SMT,
    host_data: str = POLICY_HASH,
    crl: bytes | None = b"",
    bind: bool = True,
    with_vcek: bool = True,
    flip_signature: bool = False,
    **report,
) -> bytes:
    """``crl`` b"" means a fresh CRL of the platform, None none at all; without ``with_vcek`` the verifier must
    find the VCEK itself (at AMD KDS)."""
    id_key = id_key_digest(LAUNCH_DIGEST, policy)

    def make_document(spki_hash: bytes, spki: bytes) -> bytes:
        report_data = hashlib.sha512(spki + nonce).digest() if bind else bytes(64)
        raw = platform.report(
            report_data, policy=policy, host_data=bytes.fromhex(host_data), id_key=id_key, platform_info=1, **report
        )
        if flip_signature:
            raw = raw[:0x2A0] + bytes([raw[0x2A0] ^ 1]) + raw[0x2A1:]
        chain = sevsnp_pb2.CertificateChain(ask_cert=platform.ask.public_bytes(Encoding.DER))
        if with_vcek:
            chain.vcek_cert = platform.vcek.public_bytes(Encoding.DER)
        if crl is not None:
            chain.extras["00569ee4-e480-4fba-bbf4-45b629901180"] = crl or platform.crl()
        product = sevsnp_pb2.SevProduct(name=sevsnp_pb2.SevProduct.SEV_PRODUCT_MILAN)
        return sevsnp_pb2.Attestation(
            report=_proto_report(raw), certificate_chain=chain, product=product
        ).SerializeToString()

    return atls_certificate(OID, make_document, with_spki=True)


TDX_OID = "1.3.9901.2.2"


def quote_proto(raw: bytes):
    """go-tdx-guest's QuoteV4 message of a v4 quote's bytes."""
    quote = parse_quote(raw)
    qe = quote.qe_report.raw
    header = tdx_pb2.Header(
        version=4,
        attestation_key_type=2,
        tee_type=0x81,
        pce_svn=raw[8:10],
        qe_svn=raw[10:12],
        qe_vendor_id=raw[12:28],
        user_data=raw[28:48],
    )
    body = tdx_pb2.TDQuoteBody(
        tee_tcb_svn=quote.tee_tcb_svn,
        mr_seam=quote.mr_seam,
        mr_signer_seam=quote.mr_signer_seam,
        seam_attributes=quote.seam_attributes,
        td_attributes=quote.td_attributes,
        xfam=quote.xfam,
        mr_td=quote.mr_td,
        mr_config_id=quote.mr_config_id,
        mr_owner=quote.mr_owner,
        mr_owner_config=quote.mr_owner_config,
        rtmrs=list(quote.rtmrs),
        report_data=quote.report_data,
    )
    report = tdx_pb2.EnclaveReport(
        cpu_svn=qe[0:16],
        misc_select=struct.unpack_from("<I", qe, 16)[0],
        reserved1=qe[20:48],
        attributes=qe[48:64],
        mr_enclave=qe[64:96],
        reserved2=qe[96:128],
        mr_signer=qe[128:160],
        reserved3=qe[160:256],
        isv_prod_id=quote.qe_report.isv_prod_id,
        isv_svn=quote.qe_report.isv_svn,
        reserved4=qe[260:320],
        report_data=qe[320:384],
    )
    pem_start = raw.index(b"-----BEGIN CERTIFICATE-----")
    chain_bytes = raw[pem_start : pem_start + struct.unpack_from("<I", raw, pem_start - 4)[0]]  # as sent, NUL and all
    chain = tdx_pb2.PCKCertificateChainData(certificate_data_type=5, size=len(chain_bytes), pck_cert_chain=chain_bytes)
    qe_data = tdx_pb2.QEReportCertificationData(
        qe_report=report,
        qe_report_signature=quote.qe_report_signature,
        qe_auth_data=tdx_pb2.QeAuthData(parsed_data_size=len(quote.qe_auth_data), data=quote.qe_auth_data),
        pck_certificate_chain_data=chain,
    )
    signed = tdx_pb2.Ecdsa256BitQuoteV4AuthData(
        signature=quote.signature,
        ecdsa_attestation_key=quote.attestation_key,
        certification_data=tdx_pb2.CertificationData(certificate_data_type=6, qe_report_certification_data=qe_data),
    )
    return tdx_pb2.QuoteV4(header=header, td_quote_body=body, signed_data=signed)


def coordinator_tdx_certificate(
    platform, nonce: bytes, host_data: str = POLICY_HASH, changes=None, after_signing=lambda raw: raw
) -> bytes:
    """A Coordinator certificate with a TDX quote of the software TDX platform (tdx_documents.SoftwareTdx)."""

    def make_document(spki_hash: bytes, spki: bytes) -> bytes:
        raw = after_signing(
            platform.resign(
                {
                    0x238: hashlib.sha512(spki + nonce).digest(),
                    0xE8: bytes.fromhex(host_data) + bytes(16),
                    **(changes or {}),
                }
            )
        )
        return quote_proto(raw).SerializeToString()

    return atls_certificate(TDX_OID, make_document, with_spki=True)
