# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Faults in the operator's workspace instead of the cluster: the master secret of another cluster, and the seed
shares of another Contrast deployment. Both are files an operator can mix up, and a rehearsal must catch them before
an outage does. The originals are kept beside them, and restore() puts them back."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .constellation.keys import KEY_LENGTH, MasterSecret
from .contrast.seedengine import SALT_LENGTH, SEED_LENGTH

FOREIGN_MASTER_SECRET = "foreign-master-secret"
FOREIGN_SEED_SHARES = "foreign-seed-shares"
KINDS = (FOREIGN_MASTER_SECRET, FOREIGN_SEED_SHARES)
ORIGINAL_SUFFIX = ".original"


def _files(directory: Path) -> dict[str, Path]:
    return {
        FOREIGN_MASTER_SECRET: directory / "constellation-mastersecret.json",
        FOREIGN_SEED_SHARES: directory / "contrast" / "seed-shares.json",
    }


def _foreign_master_secret() -> bytes:
    return MasterSecret(secrets.token_bytes(KEY_LENGTH), secrets.token_bytes(KEY_LENGTH)).to_json().encode()


def _foreign_seed_shares() -> bytes:
    """A valid seed-shares.json of another deployment: another seed, encrypted to another owner's key."""
    owner = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"seedshare")
    public = owner.public_key()
    share = {
        "PublicKey": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1).hex(),
        "EncryptedSeed": base64.b64encode(public.encrypt(secrets.token_bytes(SEED_LENGTH), oaep)).decode(),
    }
    doc = {"SeedShares": [share], "salt": base64.b64encode(secrets.token_bytes(SALT_LENGTH)).decode()}
    return json.dumps(doc, indent=2).encode()


def apply(directory: Path, kind: str) -> Path:
    """Put a foreign file in the workspace; the original stays beside it. Returns the path replaced."""
    path = _files(directory)[kind]
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: is this a lab with that workspace?")
    original = path.with_name(path.name + ORIGINAL_SUFFIX)
    if not original.exists():
        path.replace(original)
    data = _foreign_master_secret() if kind == FOREIGN_MASTER_SECRET else _foreign_seed_shares()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def restore(directory: Path) -> list[Path]:
    restored = []
    for path in _files(directory).values():
        original = path.with_name(path.name + ORIGINAL_SUFFIX)
        if original.exists():
            original.replace(path)
            restored.append(path)
    return restored
