# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Server certificates of Contrast's insecure attestation variant (ansible_collections/confidential/recovery/docs/contrast-protocol.md, Attested TLS)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

INSECURE_OID = x509.ObjectIdentifier("1.3.9901.2.3")


class InsecureIssuer:
    """``policy_hash()`` is asked on every handshake (the lab can make the Coordinator an impostor while it runs)."""

    def __init__(self, policy_hash):
        self.policy_hash = policy_hash

    def issue(self, nonce: bytes):
        key = ec.generate_private_key(ec.SECP256R1())  # a fresh key per connection, as upstream
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        document = json.dumps(
            {
                "reportData": base64.b64encode(hashlib.sha512(spki + nonce).digest()).decode(),
                "hostData": base64.b64encode(self.policy_hash()).decode(),
            }
        ).encode()
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
            .add_extension(x509.UnrecognizedExtension(INSECURE_OID, document), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key
