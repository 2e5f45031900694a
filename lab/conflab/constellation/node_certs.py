# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificates a lab node presents: Constellation's `dummy` attestation variant
(ansible_collections/confidential/recovery/docs/constellation-protocol.md, Attested TLS).

One ECDSA P-256 key per issuer (per server process, as upstream), a fresh certificate per
handshake, bound to the peer's nonce and to the key through the extension's JSON document.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DUMMY_VARIANT_OID = x509.ObjectIdentifier("1.3.9900.1.1")
VALIDITY = datetime.timedelta(hours=2)


def _spki_digest(public_key) -> bytes:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def dummy_document(public_key, nonce: bytes) -> bytes:
    return json.dumps(
        {"UserData": base64.b64encode(_spki_digest(public_key)).decode(), "Nonce": base64.b64encode(nonce).decode()}
    ).encode()


class DummyAttestationIssuer:
    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def _build(self, nonce: bytes, attested: bool) -> x509.Certificate:
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Constellation")])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(secrets.randbelow(2**128 - 1) + 1)
            .not_valid_before(now - VALIDITY)
            .not_valid_after(now + VALIDITY)
        )
        if attested:
            document = dummy_document(self._key.public_key(), nonce)
            builder = builder.add_extension(x509.UnrecognizedExtension(DUMMY_VARIANT_OID, document), critical=False)
        return builder.sign(self._key, hashes.SHA256())

    def issue(self, nonce: bytes):
        return self._build(nonce, attested=True), self._key

    def issue_plain(self, nonce: bytes):
        return self._build(nonce, attested=False), self._key

    def client_identity(self, nonce: bytes = b"") -> tuple[bytes, bytes]:
        cert = self._build(nonce, attested=True)
        key_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


def verify_dummy_cert(cert: x509.Certificate, nonce: bytes | None = None) -> None:
    """Raise ValueError unless ``cert`` carries a valid dummy attestation (optionally for ``nonce``)."""
    now = datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValueError("certificate is not valid now")
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise ValueError(f"certificate is not self-signed: {exc}") from exc
    try:
        raw = cert.extensions.get_extension_for_oid(DUMMY_VARIANT_OID).value.value
    except x509.ExtensionNotFound as exc:
        raise ValueError("certificate does not contain attestation document") from exc
    try:
        document = json.loads(raw)
        user_data = base64.b64decode(document["UserData"], validate=True)
        got_nonce = base64.b64decode(document["Nonce"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("attestation document is malformed") from exc
    if user_data != _spki_digest(cert.public_key()):
        raise ValueError("certificate hash does not match user data")
    if nonce is not None and got_nonce != nonce:
        raise ValueError(
            f"invalid nonce: expected {base64.b64encode(nonce).decode()}, got {base64.b64encode(got_nonce).decode()}"
        )
