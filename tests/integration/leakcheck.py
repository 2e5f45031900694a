"""Every form in which key material could leak into output, derived independently of the collection."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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
