# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Key derivation as a Constellation cluster does it (HKDF-SHA256, RFC 5869), on the lab side.

The collection has its own implementation; the two meet only on the wire, which is the point.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_LENGTH = 32


def derive(ikm: bytes, salt: bytes, info: str, length: int = KEY_LENGTH) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info.encode()).derive(ikm)


@dataclass(frozen=True)
class MasterSecret:
    key: bytes
    salt: bytes

    @classmethod
    def load(cls, path: Path) -> MasterSecret:
        doc = json.loads(Path(path).read_text())
        return cls(base64.b64decode(doc["key"]), base64.b64decode(doc["salt"]))

    def to_json(self) -> str:
        """The upstream file format: tab-indented, no trailing newline."""
        doc = {"key": base64.b64encode(self.key).decode(), "salt": base64.b64encode(self.salt).decode()}
        return json.dumps(doc, indent="\t")

    def disk_key(self, disk_uuid: str) -> bytes:
        return derive(self.key, self.salt, f"key-{disk_uuid.lower()}")

    def measurement_secret(self) -> bytes:
        return derive(self.key, self.salt, "key-measurementSecret")


def cluster_id(measurement_secret: bytes, measurement_salt: bytes) -> bytes:
    return derive(measurement_secret, measurement_salt, "key-clusterID")
