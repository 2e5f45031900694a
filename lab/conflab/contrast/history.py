# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator's persisted state: manifest history and the signed latest transition.

This is what survives a restart (upstream keeps it in ConfigMaps). The seed, salt and mesh CA
key are never written here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

ZERO_HASH = bytes(32)


def transition_hash(manifest: bytes, previous: bytes) -> bytes:
    # Unverified upstream detail: the store key is transitions/<hex sha256>, so SHA-256 of
    # ManifestHash || PrevTransitionHash is taken as the transition hash.
    return hashlib.sha256(hashlib.sha256(manifest).digest() + previous).digest()


class History:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file = self.directory / "history.json"

    def _load(self) -> dict:
        if not self._file.exists():
            return {"manifests": [], "policies": [], "latest": None}
        return json.loads(self._file.read_text())

    def _save(self, doc: dict) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self._file)

    @property
    def initialized(self) -> bool:
        return self._load()["latest"] is not None

    def manifests(self) -> list[bytes]:
        return [m.encode() for m in self._load()["manifests"]]

    def policies(self) -> list[bytes]:
        return [bytes.fromhex(p) for p in self._load()["policies"]]

    def latest(self) -> tuple[bytes, bytes] | None:
        latest = self._load()["latest"]
        return (bytes.fromhex(latest["hash"]), bytes.fromhex(latest["signature"])) if latest else None

    def append(self, manifest: bytes, policies: list[bytes], sign) -> tuple[bytes, bytes]:
        doc = self._load()
        previous = bytes.fromhex(doc["latest"]["hash"]) if doc["latest"] else ZERO_HASH
        new_hash = transition_hash(manifest, previous)
        signature = sign(new_hash)
        doc["manifests"].append(manifest.decode())
        doc["policies"] = sorted(set(doc["policies"]) | {p.hex() for p in policies})
        doc["latest"] = {"hash": new_hash.hex(), "signature": signature.hex()}
        self._save(doc)
        return new_hash, signature
