# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's stand-in for a LUKS2 state disk: one keyslot that only the right passphrase opens.

The keyslot is AES-256-GCM under the 32-byte passphrase (the key derived from the master secret
and the disk UUID) over a random volume key, with the UUID as associated data, so a wrong master
secret really fails at unlock, as on a node.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid as uuidlib
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class WrongPassphrase(Exception):
    pass


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


class StateDisk:
    def __init__(self, path: Path):
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    @property
    def uuid(self) -> str:
        return json.loads(self.path.read_text())["uuid"]

    def format(self, disk_uuid: str, passphrase: bytes) -> None:
        disk_uuid = str(uuidlib.UUID(disk_uuid))
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(passphrase).encrypt(nonce, secrets.token_bytes(32), disk_uuid.encode())
        doc = {
            "uuid": disk_uuid,
            "cipher": "aes-256-gcm",
            "nonce": base64.b64encode(nonce).decode(),
            "keyslot": base64.b64encode(sealed).decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(self.path, json.dumps(doc))

    def unlock(self, passphrase: bytes) -> None:
        """Open the keyslot; raise WrongPassphrase when the passphrase does not open it."""
        doc = json.loads(self.path.read_text())
        if len(passphrase) != 32:
            raise WrongPassphrase(f"passphrase has {len(passphrase)} bytes, want 32")
        try:
            AESGCM(passphrase).decrypt(
                base64.b64decode(doc["nonce"]), base64.b64decode(doc["keyslot"]), doc["uuid"].encode()
            )
        except InvalidTag as exc:
            raise WrongPassphrase("no key available with this passphrase") from exc
