# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Secrets a Coordinator derives from its seed and salt (ansible_collections/confidential/recovery/docs/contrast-protocol.md, Workspace and seed).

HKDF-SHA256 with the seed as key material. The root CA and transaction-signing keys are P-384
keys derived deterministically; upstream uses C2SP det-keygen, the lab derives the scalar from
the HKDF output (the lab only has to agree with itself: a wrong seed must fail the signature).
"""

from __future__ import annotations

import datetime
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

SEED_LENGTH = 64
SALT_LENGTH = 32
P384_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
ROOT_CN = "system:coordinator:root"
MESH_CN = "system:coordinator:intermediate"


class SeedEngine:
    def __init__(self, seed: bytes, salt: bytes):
        self.seed, self.salt = seed, salt

    @classmethod
    def generate(cls) -> SeedEngine:
        return cls(secrets.token_bytes(SEED_LENGTH), secrets.token_bytes(SALT_LENGTH))

    def derive(self, info: str, length: int | None = None) -> bytes:
        return HKDF(hashes.SHA256(), length or len(self.seed), self.salt, info.encode()).derive(self.seed)

    def _p384(self, info: str) -> ec.EllipticCurvePrivateKey:
        scalar = int.from_bytes(self.derive(info, 64), "big") % (P384_ORDER - 1) + 1
        return ec.derive_private_key(scalar, ec.SECP384R1())

    def transaction_signing_key(self) -> ec.EllipticCurvePrivateKey:
        return self._p384("TRANSACTION SIGNING SECRET")

    def root_ca_key(self) -> ec.EllipticCurvePrivateKey:
        return self._p384("ROOT CA SEED")

    def sign_transition(self, transition_hash: bytes) -> bytes:
        return self.transaction_signing_key().sign(transition_hash, ec.ECDSA(Prehashed(hashes.SHA256())))

    def verify_transition(self, transition_hash: bytes, signature: bytes) -> bool:
        try:
            self.transaction_signing_key().public_key().verify(
                signature, transition_hash, ec.ECDSA(Prehashed(hashes.SHA256()))
            )
        except Exception:  # noqa: BLE001 - InvalidSignature or a malformed signature both mean "not this seed"
            return False
        return True


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ca_certificates(root_key, mesh_key) -> tuple[x509.Certificate, x509.Certificate]:
    """A fresh root certificate on the (derived) root key and a mesh CA signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(ROOT_CN))
        .issuer_name(_name(ROOT_CN))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA384())
    )
    mesh = (
        x509.CertificateBuilder()
        .subject_name(_name(MESH_CN))
        .issuer_name(_name(ROOT_CN))
        .public_key(mesh_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA384())
    )
    return root, mesh
