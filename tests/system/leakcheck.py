# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every form in which key material could leak into output, derived independently of the collection."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"seedshare")


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _forms(value: bytes) -> set[str]:
    return {
        value.hex(),
        base64.b64encode(value).decode(),
        base64.urlsafe_b64encode(value).decode(),
        base64.b64encode(value).decode().rstrip("="),
        base64.urlsafe_b64encode(value).decode().rstrip("="),
    }


def constellation_secret_forms(master_secret_file: Path, disk_uuids: list[str]) -> set[str]:
    doc = json.loads(master_secret_file.read_text())
    key, salt = base64.b64decode(doc["key"]), base64.b64decode(doc["salt"])
    forms = _forms(key) | _forms(salt) | _forms(_hkdf(key, salt, b"key-measurementSecret"))
    for uuid in disk_uuids:
        forms |= _forms(_hkdf(key, salt, f"key-{uuid}".encode()))
    return forms


def leaked(forms: set[str], *texts: str) -> list[str]:
    return sorted(form for form in forms for text in texts if form in text)


def owner_key(ws):
    return serialization.load_pem_private_key((ws / "seedshare-owner.pem").read_bytes(), password=None)


def seed_and_salt(ws) -> tuple[bytes, bytes]:
    doc = json.loads((ws / "seed-shares.json").read_text())
    seed = owner_key(ws).decrypt(base64.b64decode(doc["SeedShares"][0]["EncryptedSeed"]), OAEP)
    return seed, base64.b64decode(doc["salt"])


def contrast_secret_forms(ws) -> set[str]:
    seed, salt = seed_and_salt(ws)
    pem_lines = [line for line in (ws / "seedshare-owner.pem").read_text().splitlines() if "-----" not in line]
    forms = {seed.hex(), base64.b64encode(seed).decode(), salt.hex(), base64.b64encode(salt).decode()}
    return forms | set(pem_lines[1:4])
