# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificates the lab Coordinator presents with Contrast's SEV-SNP variant (`conflab up --attestation snp`).

The extension 1.3.9901.2.1 holds go-sev-guest's Attestation protobuf: the report as fields, the VCEK and ASK of the
lab's AMD-shaped chain (lab/conflab/constellation/snp_issuer.py) and the lab ARK's CRL. The report binds the
connection (REPORT_DATA = SHA-512 of the certificate key and the nonce), carries the Coordinator's policy hash as
HOST_DATA, and the ID-key digest Contrast derives from the launch measurement and the guest policy: Contrast signs
its ID block with the fixed signature (r = 2, s = 1), so the key is the one recovered from that signature.

The lab computes that digest on its own (it must not share the collection's code), from AMD's SEV-SNP ABI and
Contrast's internal/idblock.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import struct
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .._generated import sevsnp_pb2
from ..constellation.snp_issuer import LAUNCH_DIGEST, POLICY, TCB, SoftwareSnpChip

SNP_OID = x509.ObjectIdentifier("1.3.9901.2.1")
CRL_KEY = "00569ee4-e480-4fba-bbf4-45b629901180"

# P-384, as (p, a, b, n, G).
_P = 2**384 - 2**128 - 2**96 + 2**32 - 1
_B = int("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef", 16)
_N = int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16)
_GX = int("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7", 16)
_GY = int("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f", 16)


def _point_sum(points):
    """Sum of affine points on P-384 (None is the point at infinity)."""
    total = None
    for point in points:
        if point is None:
            continue
        if total is None:
            total = point
            continue
        (x1, y1), (x2, y2) = total, point
        if x1 == x2 and (y1 + y2) % _P == 0:
            total = None
            continue
        if total == point:
            slope = (3 * x1 * x1 - 3) * pow(2 * y1, _P - 2, _P) % _P
        else:
            slope = (y2 - y1) * pow(x2 - x1, _P - 2, _P) % _P
        x3 = (slope * slope - x1 - x2) % _P
        total = (x3, (slope * (x1 - x3) - y1) % _P)
    return total


def _times(k: int, point):
    result, addend = None, point
    for bit in bin(k)[:1:-1]:
        if bit == "1":
            result = _point_sum([result, addend])
        addend = _point_sum([addend, addend])
    return result


def id_key_digest(measurement: bytes, policy: int) -> bytes:
    block = measurement + b"\x01" + bytes(15) + b"\x02" + bytes(15) + struct.pack("<IIQ", 1, 2, policy)
    e = int.from_bytes(hashlib.sha384(block).digest(), "big") % _N
    y = pow((8 - 6 + _B) % _P, (_P + 1) // 4, _P)
    inverse_r = pow(2, _N - 2, _N)
    minus_e_g = _times(e, (_GX, _GY))
    minus_e_g = (minus_e_g[0], _P - minus_e_g[1])
    keys = sorted(_times(inverse_r, _point_sum([(2, root), minus_e_g])) for root in (y, _P - y))
    x, qy = keys[0]
    amd_key = struct.pack("<I", 2) + x.to_bytes(72, "little") + qy.to_bytes(72, "little")
    return hashlib.sha384(amd_key + bytes(0x404 - len(amd_key))).digest()


def reference_entry() -> dict:
    """The manifest's ReferenceValues.snp entry that the lab Coordinator's reports meet."""
    return {
        "ProductName": "Milan",
        "TrustedMeasurement": LAUNCH_DIGEST.hex(),
        "GuestPolicy": {"ABIMinor": 0, "ABIMajor": 0, "SMT": True, "MigrateMA": False, "Debug": False},
        "MinimumTCB": {
            "BootloaderVersion": TCB["bootloaderVersion"],
            "TEEVersion": TCB["teeVersion"],
            "SNPVersion": TCB["snpVersion"],
            "MicrocodeVersion": TCB["microcodeVersion"],
        },
        "PlatformInfo": {},
    }


def _report_message(raw: bytes):
    def u32(offset):
        return struct.unpack_from("<I", raw, offset)[0]

    def u64(offset):
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


class SnpCoordinatorIssuer:
    def __init__(self, lab_dir: Path, policy_hash) -> None:
        """``policy_hash()`` is asked on every handshake, as for the insecure issuer."""
        self.chip = SoftwareSnpChip(lab_dir, Path(lab_dir) / ".cluster", "contrast-coordinator")
        self.policy_hash = policy_hash
        self.id_key_digest = id_key_digest(LAUNCH_DIGEST, POLICY)

    def _document(self, spki: bytes, nonce: bytes) -> bytes:
        report = self.chip.report(
            hashlib.sha512(spki + nonce).digest(), host_data=self.policy_hash(), id_key_digest=self.id_key_digest
        )
        der = serialization.Encoding.DER
        chain = sevsnp_pb2.CertificateChain(
            vcek_cert=x509.load_pem_x509_certificate(self.chip.vcek_pem).public_bytes(der),
            ask_cert=x509.load_pem_x509_certificate(self.chip.ask_pem).public_bytes(der),
        )
        chain.extras[CRL_KEY] = self.chip.crl_der
        return sevsnp_pb2.Attestation(
            report=_report_message(report),
            certificate_chain=chain,
            product=sevsnp_pb2.SevProduct(name=sevsnp_pb2.SevProduct.SEV_PRODUCT_MILAN),
        ).SerializeToString()

    def issue(self, nonce: bytes):
        key = ec.generate_private_key(ec.SECP256R1())  # a fresh key per connection, as upstream
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contrast")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(secrets.randbelow(2**128 - 1) + 1)
            .not_valid_before(now - datetime.timedelta(hours=2))
            .not_valid_after(now + datetime.timedelta(hours=2))
            .add_extension(x509.UnrecognizedExtension(SNP_OID, self._document(spki, nonce)), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key
