# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Contrast Coordinator certificates with SEV-SNP evidence from the software platform (snp_documents), as go-sev-guest's
Attestation protobuf, and the manifest ReferenceValues entry that describes them."""

from __future__ import annotations

import hashlib
import struct

from cryptography.hazmat.primitives.serialization import Encoding

from snp_documents import LAUNCH_DIGEST, POLICY_SMT, TCB, SoftwareSnp
from vtpm_documents import atls_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._contrast_idblock import id_key_digest
from ansible_collections.confidential.recovery.plugins.module_utils._generated import sevsnp_pb2

OID = "1.3.9901.2.1"
POLICY_HASH = hashlib.sha256(b"the coordinator's policy").hexdigest()
GUEST_POLICY = {"ABIMinor": 0, "ABIMajor": 0, "SMT": True, "MigrateMA": False, "Debug": False}


def reference_entry(**changes) -> dict:
    entry = {"ProductName": "Milan", "TrustedMeasurement": LAUNCH_DIGEST.hex(), "GuestPolicy": dict(GUEST_POLICY),
             "MinimumTCB": {"BootloaderVersion": TCB["bootloader"], "TEEVersion": TCB["tee"], "SNPVersion": TCB["snp"],
                            "MicrocodeVersion": TCB["microcode"]},
             "PlatformInfo": {"SMTEnabled": True}}
    entry.update(changes)
    return entry


def _proto_report(raw: bytes):
    def u32(offset: int) -> int:
        return struct.unpack_from("<I", raw, offset)[0]

    def u64(offset: int) -> int:
        return struct.unpack_from("<Q", raw, offset)[0]

    return sevsnp_pb2.Report(
        version=u32(0), guest_svn=u32(4), policy=u64(8), family_id=raw[0x10:0x20], image_id=raw[0x20:0x30],
        vmpl=u32(0x30), signature_algo=u32(0x34), current_tcb=u64(0x38), platform_info=u64(0x40), signer_info=u32(0x48),
        report_data=raw[0x50:0x90], measurement=raw[0x90:0xC0], host_data=raw[0xC0:0xE0], id_key_digest=raw[0xE0:0x110],
        author_key_digest=raw[0x110:0x140], report_id=raw[0x140:0x160], report_id_ma=raw[0x160:0x180],
        reported_tcb=u64(0x180), chip_id=raw[0x1A0:0x1E0], committed_tcb=u64(0x1E0), launch_tcb=u64(0x1F0),
        signature=raw[0x2A0:0x4A0])


def coordinator_certificate(platform: SoftwareSnp, nonce: bytes, policy: int = POLICY_SMT, host_data: str = POLICY_HASH,
                            crl: bytes | None = b"", bind: bool = True, **report) -> bytes:
    """``crl`` b"" means a fresh CRL of the platform, None none at all."""
    id_key = id_key_digest(LAUNCH_DIGEST, policy)

    def make_document(spki_hash: bytes, spki: bytes) -> bytes:
        report_data = hashlib.sha512(spki + nonce).digest() if bind else bytes(64)
        raw = platform.report(report_data, policy=policy, host_data=bytes.fromhex(host_data), id_key=id_key,
                              platform_info=1, **report)
        chain = sevsnp_pb2.CertificateChain(vcek_cert=platform.vcek.public_bytes(Encoding.DER),
                                            ask_cert=platform.ask.public_bytes(Encoding.DER))
        if crl is not None:
            chain.extras["00569ee4-e480-4fba-bbf4-45b629901180"] = crl or platform.crl()
        product = sevsnp_pb2.SevProduct(name=sevsnp_pb2.SevProduct.SEV_PRODUCT_MILAN)
        return sevsnp_pb2.Attestation(report=_proto_report(raw), certificate_chain=chain, product=product).SerializeToString()

    return atls_certificate(OID, make_document, with_spki=True)
