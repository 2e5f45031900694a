# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificates a lab node presents with Constellation's `qemu-vtpm` attestation variant.

A software TPM: an RSA attestation key per server process and fixed SHA-256 PCR values (the same on every node, so
one constellation-conf.yaml describes the lab). The document is what upstream's QEMU issuer sends: Go JSON of
{Attestation: {ak_pub, quotes}, InstanceInfo: null, UserData}, the quote made for
SHA256(InstanceInfo || SHA256(UserData || nonce)) and signed RSASSA-PKCS1-v1_5 with SHA-256 (TPM 2.0 Library spec,
TPMS_ATTEST and TPMT_SIGNATURE). No event log: the quoted PCRs have no events to replay.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

QEMU_VTPM_OID = x509.ObjectIdentifier("1.3.9900.5.1")
VALIDITY = datetime.timedelta(hours=2)
SHA256_BANK = 11  # go-tpm-tools' HashAlgo and the TPM's TPM_ALG_SHA256
PCRS = {index: hashlib.sha256(f"conflab measured boot, PCR {index}".encode()).digest() for index in range(24)}
# The lab's reference values, as a constellation-conf.yaml's attestation.qemuVTPM.measurements.
ENFORCED = (4, 9, 11, 12)
WARN_ONLY = (1, 2, 3)


def reference_measurements() -> dict:
    return {index: {"expected": PCRS[index].hex(), "warnOnly": index in WARN_ONLY} for index in ENFORCED + WARN_ONLY}


def _tpm2b(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SoftwareTpm:
    def __init__(self) -> None:
        self._ak = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_key(self):
        return self._ak.public_key()

    def public_area(self) -> bytes:
        modulus = self._ak.public_key().public_numbers().n.to_bytes(256, "big")
        # TPMT_PUBLIC: RSA, nameAlg SHA-256, restricted signing key, no policy; symmetric NULL, RSASSA with
        # SHA-256, 2048 bits, default exponent (0 = 65537), the modulus.
        header = struct.pack(">HHI", 0x0001, 0x000B, 0x00050072) + _tpm2b(b"")
        return header + struct.pack(">HHHHI", 0x0010, 0x0014, 0x000B, 2048, 0) + _tpm2b(modulus)

    def quote(self, nonce: bytes, pcrs: dict[int, bytes]) -> tuple[bytes, bytes]:
        selection = bytes([0xFF, 0xFF, 0xFF])  # PCRs 0-23
        digest = hashlib.sha256(b"".join(pcrs[index] for index in sorted(pcrs))).digest()
        clock_and_firmware = bytes(8 + 4 + 4 + 1 + 8)
        attest = (
            struct.pack(">IH", 0xFF544347, 0x8018)
            + _tpm2b(b"conflab")
            + _tpm2b(nonce)
            + clock_and_firmware
            + struct.pack(">IHB", 1, 0x000B, 3)
            + selection
            + _tpm2b(digest)
        )
        signature = self._ak.sign(attest, padding.PKCS1v15(), hashes.SHA256())
        return attest, struct.pack(">HH", 0x0014, 0x000B) + _tpm2b(signature)


def presented_pcrs(wrong_measurement: bool) -> dict[int, bytes]:
    """The PCRs a node quotes; a node broken with `conflab break --fault NODE=wrong-measurement` differs at PCR 4."""
    if not wrong_measurement:
        return PCRS
    return {**PCRS, 4: hashlib.sha256(b"conflab: a boot loader nobody measured").digest()}


def document(
    tpm: SoftwareTpm, user_data: bytes, nonce: bytes, pcrs: dict[int, bytes], instance_info: bytes = b""
) -> bytes:
    extra_data = hashlib.sha256(user_data + nonce).digest()
    attest, raw_sig = tpm.quote(hashlib.sha256(instance_info + extra_data).digest(), pcrs)
    return json.dumps(
        {
            "Attestation": {
                "ak_pub": _b64(tpm.public_area()),
                "quotes": [
                    {
                        "quote": _b64(attest),
                        "raw_sig": _b64(raw_sig),
                        "pcrs": {"hash": SHA256_BANK, "pcrs": {str(i): _b64(v) for i, v in pcrs.items()}},
                    }
                ],
            },
            "InstanceInfo": _b64(instance_info) if instance_info else None,
            "UserData": _b64(user_data),
        }
    ).encode()


def malformed_document(genuine: bytes) -> bytes:
    """The document of `conflab break --fault NODE=malformed-evidence`: well-formed JSON, genuinely signed, but the PCR
    values are a list where the format has a map of index to value, as a hostile or broken peer might send."""
    doc = json.loads(genuine)
    for quote in doc["Attestation"]["quotes"]:
        quote["pcrs"]["pcrs"] = list(quote["pcrs"]["pcrs"].values())
    return json.dumps(doc).encode()


class VtpmAttestationIssuer:
    """Issues aTLS certificates like DummyAttestationIssuer, with a qemu-vtpm document instead of a dummy one.

    ``wrong_measurement()`` and ``malformed()`` are asked on every handshake, so a fault switched on while the node
    waits takes effect.
    """

    oid = QEMU_VTPM_OID

    def __init__(self, wrong_measurement=lambda: False, malformed=lambda: False) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._tpm = SoftwareTpm()
        self._wrong_measurement = wrong_measurement
        self._malformed = malformed

    @property
    def tpm(self) -> SoftwareTpm:
        return self._tpm

    def instance_info(self) -> bytes:
        return b""

    def _document(self, spki: bytes, nonce: bytes) -> bytes:
        genuine = document(
            self._tpm,
            hashlib.sha256(spki).digest(),
            nonce,
            presented_pcrs(self._wrong_measurement()),
            self.instance_info(),
        )
        return malformed_document(genuine) if self._malformed() else genuine

    def issue(self, nonce: bytes):
        spki = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Constellation")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(secrets.randbelow(2**128 - 1) + 1)
            .not_valid_before(now - VALIDITY)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.UnrecognizedExtension(self.oid, self._document(spki, nonce)), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return cert, self._key
