# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The peer's self-signed aTLS certificate: its own signature and validity, and the attestation document in one of its
extensions. Shared by every validator, of either product."""

from __future__ import annotations

import base64
import datetime

from .._net._atls import AttestationFailed
from ._checks import raises_only

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc


def spki_der(cert) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_self_signed(cert, now: datetime.datetime | None = None) -> None:
    """The leaf must verify as its own root and be inside its validity window."""
    now = now or datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AttestationFailed(
            f"certificate is not valid now ({cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} .. "
            f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ})"
        )
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            raise AttestationFailed(f"unsupported certificate key type {type(key).__name__}")
    except InvalidSignature as exc:
        raise AttestationFailed("certificate is not self-signed by its own key") from exc


def _extension_value(cert, oid: str) -> bytes:
    for ext in cert.extensions:
        if ext.oid.dotted_string == oid:
            return ext.value.value
    got = ", ".join(ext.oid.dotted_string for ext in cert.extensions) or "none"
    raise AttestationFailed(
        f"certificate does not contain compatible attestation documents: got extension OIDs [{got}], want {oid}"
    )


@raises_only(AttestationFailed, "the peer's aTLS certificate")
def peer_document(cert_der: bytes, oid: str, now: datetime.datetime | None = None):
    """The peer's self-signed aTLS certificate, checked, and the raw attestation document of extension ``oid``."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise AttestationFailed(f"the peer's certificate is not DER X.509: {exc}") from exc
    check_self_signed(cert, now)
    return cert, _extension_value(cert, oid)


def b64_field(value, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError) as exc:
        raise AttestationFailed(f"attestation document field {what} is not base64") from exc


def caveat(condition: str, message: str) -> dict:
    """What a configuration does not prove: warned on every use, and carried into results and reports."""
    return {"condition": condition, "message": message}
