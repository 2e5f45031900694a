# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation vTPM attestation documents made by a software signer in the TPM's formats, for the tests.

The formats themselves are checked against real evidence in test_tpm.py.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._measurements import (
    parse_measurements,
)

AK = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PCRS = {i: hashlib.sha256(bytes([i])).digest() for i in range(24)}
SPKI_HASH = hashlib.sha256(b"the aTLS certificate's public key").digest()
NONCE = b"n" * 32


def _tpm2b(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def _public(key) -> bytes:
    numbers = key.public_key().public_numbers()
    modulus = numbers.n.to_bytes(256, "big")
    # RSA, nameAlg SHA-256, attributes, empty policy, symmetric NULL, scheme RSASSA+SHA256, 2048 bits, exponent 0.
    header = struct.pack(">HHI", 0x0001, 0x000B, 0x00050072) + _tpm2b(b"")
    return header + struct.pack(">HHHHI", 0x0010, 0x0014, 0x000B, 2048, 0) + _tpm2b(modulus)


def _quote(nonce: bytes, pcrs: dict[int, bytes]) -> tuple[bytes, bytes]:
    selection = bytearray(3)
    for index in pcrs:
        selection[index // 8] |= 1 << (index % 8)
    digest = hashlib.sha256(b"".join(pcrs[i] for i in sorted(pcrs))).digest()
    attest = (
        struct.pack(">IH", 0xFF544347, 0x8018)
        + _tpm2b(b"signer")
        + _tpm2b(nonce)
        + bytes(25)
        + struct.pack(">IHB", 1, 0x000B, 3)
        + bytes(selection)
        + _tpm2b(digest)
    )
    signature = AK.sign(attest, padding.PKCS1v15(), hashes.SHA256())
    return attest, struct.pack(">HH", 0x0014, 0x000B) + _tpm2b(signature)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()  # Go's encoding of []byte


def document(
    nonce=NONCE,
    user_data=SPKI_HASH,
    instance_info=None,
    quoted_pcrs=None,
    sent_pcrs=None,
    event_log=None,
    flip_quote_signature=False,
) -> bytes:
    """``instance_info`` is bytes, or a function of extraData for variants whose evidence binds the connection."""
    extra = hashlib.sha256(user_data + nonce).digest()
    if callable(instance_info):
        instance_info = instance_info(extra)
    tpm_nonce = hashlib.sha256((instance_info or b"") + extra).digest()
    attest, raw_sig = _quote(tpm_nonce, quoted_pcrs or PCRS)
    if flip_quote_signature:
        raw_sig = raw_sig[:-1] + bytes([raw_sig[-1] ^ 1])
    return json.dumps(
        {
            "Attestation": {
                "ak_pub": b64(_public(AK)),
                "quotes": [
                    {
                        "quote": b64(attest),
                        "raw_sig": b64(raw_sig),
                        "pcrs": {"hash": 11, "pcrs": {str(i): b64(v) for i, v in (sent_pcrs or PCRS).items()}},
                    }
                ],
                **({"event_log": b64(event_log)} if event_log else {}),
            },
            "InstanceInfo": b64(instance_info) if instance_info is not None else None,
            "UserData": b64(user_data),
        }
    ).encode()


def references(**warn_only):
    return parse_measurements(
        {i: {"expected": PCRS[i].hex(), "warnOnly": warn_only.get(f"pcr{i}", False)} for i in (4, 9, 11)}
    )


def atls_certificate(oid: str, make_document, with_spki: bool = False) -> bytes:
    """A self-signed aTLS certificate whose extension ``oid`` holds ``make_document(SHA-256 of its SPKI)``, or
    ``make_document(SHA-256 of its SPKI, the SPKI)`` with ``with_spki``."""
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(oid),
                make_document(hashlib.sha256(spki).digest(), *((spki,) if with_spki else ())),
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def node_certificate(
    nonce=NONCE, oid="1.3.9900.5.1", bind=True, instance_info=None, pcrs=None, flip_quote_signature=False
) -> bytes:
    """An aTLS certificate carrying a vTPM document whose UserData binds the certificate's key (unless not ``bind``)."""
    return atls_certificate(
        oid,
        lambda spki_hash: document(
            nonce=nonce,
            user_data=spki_hash if bind else bytes(32),
            instance_info=instance_info,
            quoted_pcrs=pcrs,
            sent_pcrs=pcrs,
            flip_quote_signature=flip_quote_signature,
        ),
    )
