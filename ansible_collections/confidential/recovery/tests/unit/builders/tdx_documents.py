# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Real TDX fixtures (fixtures/tdx/README.md), and a software TDX platform that re-signs a real quote after a change
to its TD report: a new attestation key, a QE report that binds it, and a PCK chain to a test root (not Intel's)."""

from __future__ import annotations

import datetime
import hashlib
import struct
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import (
    SIGNED_SIZE,
    parse_quote,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tdx"
FMSPC = "B0C06F000000"  # the platform of the real quote, and of the software platform's PCK extension
QUOTE = (FIXTURES / "tdx-quote.bin").read_bytes()
COLLATERAL = (FIXTURES / "tdx-quote-collateral.json").read_text()
OUTDATED_QUOTE = (FIXTURES / "tdx-quote-outdated.bin").read_bytes()  # a version 5 quote
# The collateral's TCB info was issued 2025-06-19; its PCK CRL is due again 2026-04-03.
COLLATERAL_NOW = datetime.datetime(2025, 7, 1, tzinfo=datetime.UTC)


def _sign(key, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


SGX_EXTENSIONS = x509.ObjectIdentifier("1.2.840.113741.1.13.1")


def _certificate(subject: str, issuer: str, public_key, signing_key, extensions=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def flip_quote_signature(raw: bytes) -> bytes:
    """The quote with one bit of its ECDSA signature (the first byte after the signed part's length) flipped."""
    flipped = bytearray(raw)
    flipped[SIGNED_SIZE + 4] ^= 1
    return bytes(flipped)


class SoftwareTdx:
    def __init__(self) -> None:
        root_key, ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        self.pck_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _certificate("Test SGX Root CA", "Test SGX Root CA", root_key.public_key(), root_key)
        ca = _certificate("Test SGX PCK Platform CA", "Test SGX Root CA", ca_key.public_key(), root_key)
        # The PCK carries the real quote's SGX extension (FMSPC and TCB components), so the platform names its collateral.
        real_pck = x509.load_pem_x509_certificates(parse_quote(QUOTE).pck_chain_pem)[0]
        sgx = real_pck.extensions.get_extension_for_oid(SGX_EXTENSIONS).value
        pck = _certificate(
            "Test SGX PCK Certificate", "Test SGX PCK Platform CA", self.pck_key.public_key(), ca_key, [sgx]
        )
        self.chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (pck, ca, self.root))

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def resign(self, changes: dict[int, bytes], quote: bytes = QUOTE) -> bytes:
        """``quote`` with ``changes`` (absolute offset -> bytes) in its signed part, signed again end to end."""
        original = parse_quote(quote)
        signed = bytearray(quote[:SIGNED_SIZE])
        for offset, value in changes.items():
            signed[offset : offset + len(value)] = value
        attestation_key = ec.generate_private_key(ec.SECP256R1())
        numbers = attestation_key.public_key().public_numbers()
        raw_key = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
        qe_report = bytearray(original.qe_report.raw)
        qe_report[320:384] = hashlib.sha256(raw_key + original.qe_auth_data).digest() + bytes(32)
        pck_data = struct.pack("<HI", 5, len(self.chain_pem)) + self.chain_pem
        qe_data = (
            bytes(qe_report)
            + _sign(self.pck_key, bytes(qe_report))
            + struct.pack("<H", len(original.qe_auth_data))
            + original.qe_auth_data
            + pck_data
        )
        signature_data = _sign(attestation_key, bytes(signed)) + raw_key + struct.pack("<HI", 6, len(qe_data)) + qe_data
        return bytes(signed) + struct.pack("<I", len(signature_data)) + signature_data
