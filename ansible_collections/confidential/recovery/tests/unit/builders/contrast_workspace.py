# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A Contrast workspace as `contrast set` leaves it: manifest, seed shares, and the seed-share owner's key."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._workspace import (
    Workspace,
)

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"seedshare")


def write_workspace(
    tmp_path, owner, seed: bytes, salt: bytes, label_oaep=OAEP, key_pem: bytes | None = None
) -> Workspace:
    public_hex = owner.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1).hex()
    shares = {
        "SeedShares": [
            {
                "PublicKey": public_hex,
                "EncryptedSeed": base64.b64encode(owner.public_key().encrypt(seed, label_oaep)).decode(),
            }
        ],
        "salt": base64.b64encode(salt).decode(),
    }
    (tmp_path / "seed-shares.json").write_text(json.dumps(shares, indent=2))
    (tmp_path / "seedshare-owner.pem").write_bytes(
        key_pem
        or owner.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    policies = {"ab" * 32: {"SANs": ["coordinator"], "Role": "coordinator"}, "cd" * 32: {"SANs": ["web"]}}
    manifest = {"Policies": policies, "SeedshareOwnerPubKeys": [public_hex]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return Workspace(
        str(tmp_path / "manifest.json"), str(tmp_path / "seed-shares.json"), str(tmp_path / "seedshare-owner.pem")
    )
