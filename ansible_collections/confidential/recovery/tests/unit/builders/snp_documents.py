# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A software SEV-SNP platform for the tests: an ARK/ASK/VCEK chain in AMD's certificate formats, reports signed the
way the PSP signs them, and Constellation azure-sev-snp documents built on them.

The formats themselves are checked against AMD's real certificates and a real report in test_snp.py.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct

import vtpm_documents
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.UTC)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
KDS = "1.3.6.1.4.1.3704.1."
TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP_ID = bytes(range(64))
ID_KEY_DIGEST = hashlib.sha384(b"the firmware's ID key").digest()
LAUNCH_DIGEST = hashlib.sha384(b"launch digest").digest()
POLICY_SMT = 0x30000


def _der_integer(value: int) -> bytes:
    return bytes([0x02, 1, value]) if value < 0x80 else bytes([0x02, 2, 0, value])


def _certificate(subject: str, issuer: str, public_key, signing_key, extensions=(), days=(-1, 365)):
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(1)
        .not_valid_before(NOW + datetime.timedelta(days=days[0]))
        .not_valid_after(NOW + datetime.timedelta(days=days[1]))
    )
    for oid, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return builder.sign(signing_key, hashes.SHA384(), rsa_padding=PSS)


def tcb_bytes(tcb: dict) -> bytes:
    return bytes([tcb["bootloader"], tcb["tee"], 0, 0, 0, 0, tcb["snp"], tcb["microcode"]])


class SoftwareSnp:
    """One "chip": ARK-Milan -> SEV-Milan -> SEV-VCEK, none of them AMD's."""

    def __init__(self, tcb=None, vcek_days=(-1, 365), vlek=False):
        self.tcb = dict(TCB, **(tcb or {}))
        self.vlek = vlek
        self.ark_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ask_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.vcek_key = ec.generate_private_key(ec.SECP384R1())
        ask_name = "SEV-VLEK-Milan" if vlek else "SEV-Milan"
        self.ark = _certificate("ARK-Milan", "ARK-Milan", self.ark_key.public_key(), self.ark_key)
        self.ask = _certificate(ask_name, "ARK-Milan", self.ask_key.public_key(), self.ark_key)
        spl = tcb_bytes(self.tcb)
        extensions = [
            (KDS + f"3.{n}", _der_integer(spl[i]))
            for n, i in ((1, 0), (2, 1), (4, 2), (5, 3), (6, 4), (7, 5), (3, 6), (8, 7))
        ]
        if vlek:
            csp = b"CN=cc-eu-west-1.amazonaws.com"
            extensions.append((KDS + "5", bytes([0x16, len(csp)]) + csp))
        else:
            extensions.append((KDS + "4", CHIP_ID))
        self.vcek = _certificate(
            "SEV-VLEK" if vlek else "SEV-VCEK",
            ask_name,
            self.vcek_key.public_key(),
            self.ask_key,
            extensions,
            days=vcek_days,
        )

    def crl(self, revoked_serials=(), next_update_days: int = 7) -> bytes:
        """AMD's CRL for the product, as the ARK signs it (RSA-PSS), listing ``revoked_serials``."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ark.subject)
            .last_update(NOW - datetime.timedelta(days=1))
            .next_update(NOW + datetime.timedelta(days=next_update_days))
        )
        for serial in revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(NOW - datetime.timedelta(days=1))
                .build()
            )
        return builder.sign(self.ark_key, hashes.SHA384(), rsa_padding=PSS).public_bytes(serialization.Encoding.DER)

    def pem(self, cert) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def report(
        self,
        report_data: bytes,
        policy: int = POLICY_SMT,
        reported_tcb=None,
        vmpl: int = 0,
        measurement: bytes | None = None,
        host_data: bytes = bytes(32),
        id_key: bytes = ID_KEY_DIGEST,
        platform_info: int = 0,
    ) -> bytes:
        raw = bytearray(0x4A0)
        tcb = tcb_bytes(dict(self.tcb, **(reported_tcb or {})))
        struct.pack_into("<IIQ", raw, 0, 2, 0, policy)
        struct.pack_into("<II", raw, 0x30, vmpl, 1)
        struct.pack_into("<I", raw, 0x48, (1 << 2) if self.vlek else 0)  # SIGNING_KEY: VLEK or VCEK
        for offset in (0x38, 0x180, 0x1E0, 0x1F0):  # current, reported, committed, launch TCB
            raw[offset : offset + 8] = tcb
        struct.pack_into("<Q", raw, 0x40, platform_info)
        raw[0x50:0x90] = report_data.ljust(64, b"\x00")
        raw[0x90:0xC0] = measurement or LAUNCH_DIGEST
        raw[0xC0:0xE0] = host_data
        raw[0xE0:0x110] = id_key
        raw[0x1A0:0x1E0] = bytes(64) if self.vlek else CHIP_ID
        r, s = decode_dss_signature(self.vcek_key.sign(bytes(raw[:0x2A0]), ec.ECDSA(hashes.SHA384())))
        raw[0x2A0:0x2E8] = r.to_bytes(72, "little")
        raw[0x2E8:0x330] = s.to_bytes(72, "little")
        return bytes(raw)


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode().rstrip("=")


def runtime_data(public_key) -> bytes:
    return json.dumps(
        {
            "keys": [
                {
                    "kid": "HCLAkPub",
                    "key_ops": ["encrypt"],
                    "kty": "RSA",
                    "e": "AQAB",
                    "n": _b64url(public_key.public_numbers().n),
                }
            ],
            "vm-configuration": {"secure-boot": True},
        }
    ).encode()


def flip_report_signature(info: bytes) -> bytes:
    """The instance info with one bit of the SNP report's signature flipped."""
    doc = json.loads(info)
    report = bytearray(base64.b64decode(doc["AttestationReport"]))
    report[0x2A0] ^= 1
    doc["AttestationReport"] = vtpm_documents.b64(bytes(report))
    return json.dumps(doc).encode()


def azure_instance_info(platform: SoftwareSnp, ak_public=None, **report) -> bytes:
    runtime = runtime_data(ak_public or vtpm_documents.AK.public_key())
    evidence = platform.report(hashlib.sha256(runtime).digest(), **report) + bytes(20)
    b64 = vtpm_documents.b64
    return json.dumps(
        {
            "ReportSigner": b64(platform.pem(platform.vcek)),
            "CertChain": b64(platform.pem(platform.ask) + platform.pem(platform.ark)),
            "AttestationReport": b64(evidence),
            "Azure": {"RuntimeData": b64(runtime), "MAAToken": ""},
            "GCP": None,
        }
    ).encode()


def azure_config(platform: SoftwareSnp, **changes) -> dict:
    """constellation-conf.yaml's attestation section for these documents."""
    section = {
        "measurements": {i: {"expected": vtpm_documents.PCRS[i].hex(), "warnOnly": False} for i in (4, 9, 11)},
        "bootloaderVersion": TCB["bootloader"],
        "teeVersion": TCB["tee"],
        "snpVersion": TCB["snp"],
        "microcodeVersion": TCB["microcode"],
        "firmwareSignerConfig": {"acceptedKeyDigests": [ID_KEY_DIGEST.hex()], "enforcementPolicy": "Equal"},
    }
    section.update(changes)
    return {"version": "v4", "attestation": {"azureSEVSNP": section}}


def aws_instance_info(platform: SoftwareSnp, ak_public=None, **report) -> bytes:
    """aws-sev-snp: REPORT_DATA is SHA-512 of the attestation key's SubjectPublicKeyInfo; only the VLEK comes along."""
    ak = ak_public or vtpm_documents.AK.public_key()
    spki = ak.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b64 = vtpm_documents.b64
    return json.dumps(
        {
            "ReportSigner": b64(platform.pem(platform.vcek)),
            "CertChain": None,
            "AttestationReport": b64(platform.report(hashlib.sha512(spki).digest(), **report)),
            "Azure": None,
            "GCP": None,
        }
    ).encode()


def aws_config(platform: SoftwareSnp, **changes) -> dict:
    section = {
        "measurements": {i: {"expected": vtpm_documents.PCRS[i].hex(), "warnOnly": False} for i in (4, 9, 11)},
        "bootloaderVersion": TCB["bootloader"],
        "teeVersion": TCB["tee"],
        "snpVersion": TCB["snp"],
        "microcodeVersion": TCB["microcode"],
        "amdSigningKey": platform.pem(platform.ask).decode(),
    }
    section.update(changes)
    return {"version": "v4", "attestation": {"awsSEVSNP": section}}


GCP_INSTANCE = {"project_id": "my-project", "zone": "europe-west3-b", "instance_name": "constell-control-plane-0"}


def gcp_instance_info(platform: SoftwareSnp, **report):
    """gcp-sev-snp: REPORT_DATA is extraData, zero-padded; a function of extraData for node_certificate."""
    b64 = vtpm_documents.b64

    def build(extra_data: bytes) -> bytes:
        return json.dumps(
            {
                "ReportSigner": b64(platform.pem(platform.vcek)),
                "CertChain": b64(platform.pem(platform.ask)),
                "AttestationReport": b64(platform.report(extra_data, **report)),
                "Azure": None,
                "GCP": GCP_INSTANCE,
            }
        ).encode()

    return build


def gcp_config(**changes) -> dict:
    section = {
        "measurements": {i: {"expected": vtpm_documents.PCRS[i].hex(), "warnOnly": False} for i in (4, 9, 11)},
        "bootloaderVersion": TCB["bootloader"],
        "teeVersion": TCB["tee"],
        "snpVersion": TCB["snp"],
        "microcodeVersion": TCB["microcode"],
    }
    section.update(changes)
    return {"version": "v4", "attestation": {"gcpSEVSNP": section}}


def save_gce_key(directory, public_key) -> None:
    """What `gcloud compute instances get-shielded-identity` reports as signingKey.ekPub, saved where the user would."""
    path = (
        directory / "gce" / GCP_INSTANCE["project_id"] / GCP_INSTANCE["zone"] / f"{GCP_INSTANCE['instance_name']}.pem"
    )
    path.parent.mkdir(parents=True)
    path.write_bytes(
        public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
