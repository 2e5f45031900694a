# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificates a lab node presents with Constellation's `azure-sev-snp` variant (`conflab up --attestation snp`).

A software AMD platform: the lab makes its own ARK and ASK at `up` (RSA-4096, RSASSA-PSS with SHA-384 and a 48-byte
salt, named as AMD names them) and each node process a VCEK (ECDSA P-384) carrying AMD KDS extensions: the TCB
components and a 64-byte hardware ID. The node's SEV-SNP report (AMD SEV-SNP ABI spec 56860 layout, version 2) is
signed by its VCEK; its REPORT_DATA binds the Azure HCL runtime data, whose first key is the vTPM's attestation key.
The vTPM quote then covers SHA256(InstanceInfo || extraData), as upstream's azure-sev-snp issuer does.

None of this chains to AMD: the collection accepts it only when the lab's root is passed as an explicit trust anchor.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from .vtpm_issuer import VtpmAttestationIssuer

AZURE_SEV_SNP_OID = x509.ObjectIdentifier("1.3.9900.4.1")
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
KDS = "1.3.6.1.4.1.3704.1."
# The lab firmware's TCB: boot loader, TEE, SNP, microcode (the minimums in the lab's constellation-conf.yaml).
TCB = {"bootloaderVersion": 3, "teeVersion": 0, "snpVersion": 8, "microcodeVersion": 115}
POLICY = 0x30000  # SMT allowed, the reserved bit 17 set, debugging and migration off
LAUNCH_DIGEST = hashlib.sha384(b"conflab guest firmware").digest()
ID_KEY_DIGEST = hashlib.sha384(b"conflab firmware ID key").digest()
ROOT_FILE = "lab-amd-root.pem"
ASK_FILE = "lab-amd-ask.pem"
ASK_KEY_FILE = "lab-amd-ask.key"
CRL_FILE = "lab-amd-crl.der"
VALIDITY = datetime.timedelta(days=2)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "conflab (not AMD)"),
        ]
    )


def _certificate(subject: str, issuer: str, public_key, signing_key, extensions=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - VALIDITY)
        .not_valid_after(now + VALIDITY)
    )
    for oid, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return builder.sign(signing_key, hashes.SHA384(), rsa_padding=PSS)


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_authority(directory: Path, private_dir: Path) -> Path:
    """The lab's ARK-Milan and SEV-Milan (ASK); returns the root's path, the trust anchor the user passes."""
    ark_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ask_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ark = _certificate("ARK-Milan", "ARK-Milan", ark_key.public_key(), ark_key)
    ask = _certificate("SEV-Milan", "ARK-Milan", ask_key.public_key(), ark_key)
    (directory / ROOT_FILE).write_bytes(_pem(ark))
    (private_dir / ASK_FILE).write_bytes(_pem(ask))
    key_path = private_dir / ASK_KEY_FILE
    key_path.write_bytes(
        ask_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    # AMD's CRL for the product, as Contrast's evidence carries it: signed by the ARK, revoking nothing here.
    now = datetime.datetime.now(datetime.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ark.subject)
        .last_update(now - VALIDITY)
        .next_update(now + VALIDITY)
        .sign(ark_key, hashes.SHA384(), rsa_padding=PSS)
    )
    (private_dir / CRL_FILE).write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return directory / ROOT_FILE


def _tcb_bytes() -> bytes:
    return bytes([TCB["bootloaderVersion"], TCB["teeVersion"], 0, 0, 0, 0, TCB["snpVersion"], TCB["microcodeVersion"]])


def _der_integer(value: int) -> bytes:
    return bytes([0x02, 1, value]) if value < 0x80 else bytes([0x02, 2, 0, value])


class SoftwareSnpChip:
    """One node's "chip": a VCEK issued by the lab's ASK, and reports signed with it."""

    def __init__(self, directory: Path, private_dir: Path, chip_name: str) -> None:
        ask_key = serialization.load_pem_private_key((private_dir / ASK_KEY_FILE).read_bytes(), password=None)
        self.ask_pem = (private_dir / ASK_FILE).read_bytes()
        self.chain_pem = self.ask_pem + (directory / ROOT_FILE).read_bytes()
        self.crl_der = (private_dir / CRL_FILE).read_bytes()
        self.chip_id = hashlib.sha512(chip_name.encode()).digest()
        self._vcek_key = ec.generate_private_key(ec.SECP384R1())
        tcb = _tcb_bytes()
        # TCB byte -> KDS extension 3.n: bl, tee, spl4-7, snp, ucode.
        spl = [(f"3.{n}", tcb[i]) for i, n in enumerate((1, 2, 4, 5, 6, 7, 3, 8))]
        extensions = [(KDS + arc, _der_integer(value)) for arc, value in spl] + [(KDS + "4", self.chip_id)]
        self.vcek_pem = _pem(_certificate("SEV-VCEK", "SEV-Milan", self._vcek_key.public_key(), ask_key, extensions))

    def report(self, report_data: bytes, host_data: bytes = bytes(32), id_key_digest: bytes = ID_KEY_DIGEST) -> bytes:
        raw = bytearray(0x4A0)
        struct.pack_into("<IIQ", raw, 0x000, 2, 0, POLICY)  # version, guest SVN, policy
        struct.pack_into("<II", raw, 0x030, 0, 1)  # VMPL 0, ECDSA P-384 with SHA-384
        for offset in (0x038, 0x180, 0x1E0, 0x1F0):  # current, reported, committed, launch TCB
            raw[offset : offset + 8] = _tcb_bytes()
        raw[0x050:0x090] = report_data.ljust(64, b"\x00")
        raw[0x090:0x0C0] = LAUNCH_DIGEST
        raw[0x0C0:0x0E0] = host_data
        raw[0x0E0:0x110] = id_key_digest
        raw[0x1A0:0x1E0] = self.chip_id
        r, s = decode_dss_signature(self._vcek_key.sign(bytes(raw[:0x2A0]), ec.ECDSA(hashes.SHA384())))
        raw[0x2A0:0x2E8] = r.to_bytes(72, "little")
        raw[0x2E8:0x330] = s.to_bytes(72, "little")
        return bytes(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode().rstrip("=")


class SnpAttestationIssuer(VtpmAttestationIssuer):
    """A qemu-vtpm-like issuer whose InstanceInfo carries the azure-sev-snp evidence for its attestation key."""

    oid = AZURE_SEV_SNP_OID

    def __init__(self, chip: SoftwareSnpChip, wrong_measurement=lambda: False, malformed=lambda: False) -> None:
        super().__init__(wrong_measurement, malformed)
        ak = self._tpm.public_key.public_numbers()
        runtime = json.dumps(
            {
                "keys": [
                    {"kid": "HCLAkPub", "key_ops": ["encrypt"], "kty": "RSA", "e": _b64url(ak.e), "n": _b64url(ak.n)}
                ],
                "vm-configuration": {"secure-boot": True, "tpm-enabled": True},
            }
        ).encode()
        # Azure's HCL report: the SNP report, then the runtime-claims header (data size, version, SNP, SHA-256, size).
        hcl = chip.report(hashlib.sha256(runtime).digest()) + struct.pack(
            "<5I", 20 + len(runtime), 1, 2, 1, len(runtime)
        )
        self._instance_info = json.dumps(
            {
                "ReportSigner": _b64(chip.vcek_pem),
                "CertChain": _b64(chip.chain_pem),
                "AttestationReport": _b64(hcl),
                "Azure": {"RuntimeData": _b64(runtime), "MAAToken": ""},
                "GCP": None,
            }
        ).encode()

    def instance_info(self) -> bytes:
        return self._instance_info


def reference_section(measurements: dict) -> dict:
    """constellation-conf.yaml's attestation.azureSEVSNP for the lab: its measurements, TCB and ID-key digest."""
    return {
        "measurements": measurements,
        **TCB,
        "firmwareSignerConfig": {"acceptedKeyDigests": [ID_KEY_DIGEST.hex()], "enforcementPolicy": "Equal"},
    }
