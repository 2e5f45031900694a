# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation key material: the master secret file and what is derived from it.

HKDF-SHA256 (RFC 5869) as upstream derives it (docs/constellation-protocol.md, Key derivation): the state-disk
passphrase ``key-<lowercase disk UUID>``, the measurement secret, the cluster ID, and the
KMS URI that v2.5+ nodes take. Error messages never contain key material.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import stat
import uuid as uuidlib

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

KEY_LENGTH = 32
STORAGE_URI = "storage://no-store"
MIN_KEY_BYTES = 16
MIN_SALT_BYTES = 32


class MasterSecretError(Exception):
    """The master secret file is missing, malformed, or belongs to another cluster."""


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = KEY_LENGTH) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def canonical_disk_uuid(value: str) -> str:
    """The lowercase 8-4-4-4-12 form that upstream puts into the derivation info."""
    try:
        parsed = uuidlib.UUID(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"not a disk UUID: {value!r}") from exc
    return str(parsed)


class MasterSecret:
    def __init__(self, key: bytes, salt: bytes):
        self.key = key
        self.salt = salt

    def __repr__(self) -> str:  # never show the bytes
        return "MasterSecret(<redacted>)"

    @classmethod
    def from_file(cls, path: str) -> MasterSecret:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError as exc:
            raise MasterSecretError(f"master secret file {path} does not exist") from exc
        except OSError as exc:
            raise MasterSecretError(f"cannot read master secret file {path}: {exc.strerror}") from exc
        return cls.from_json(raw, path)

    @classmethod
    def from_json(cls, raw, path: str | None = None) -> MasterSecret:
        """From the file's bytes, a JSON string, or an already parsed dictionary (an inline ``master_secret``)."""
        source = f"master secret file {path}" if path else "master_secret"
        if isinstance(raw, dict):
            doc = raw
        else:
            try:
                doc = json.loads(raw)
            except (TypeError, ValueError) as exc:
                raise MasterSecretError(f"{source} is not JSON") from exc
        if not isinstance(doc, dict) or not {"key", "salt"} <= set(doc):
            raise MasterSecretError(f'{source} must be a JSON object with "key" and "salt"')
        key = cls._decode(doc["key"], "key", source)
        salt = cls._decode(doc["salt"], "salt", source)
        if len(key) < MIN_KEY_BYTES:
            raise MasterSecretError(f"the key in {source} is {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
        if len(salt) < MIN_SALT_BYTES:
            raise MasterSecretError(
                f"the salt in {source} is {len(salt)} bytes; at least {MIN_SALT_BYTES} are required"
            )
        return cls(key, salt)

    @staticmethod
    def _decode(value, field: str, source: str) -> bytes:
        if not isinstance(value, str):
            raise MasterSecretError(f'"{field}" in {source} must be a base64 string')
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise MasterSecretError(f'"{field}" in {source} is not valid standard base64') from exc

    def disk_key(self, disk_uuid: str) -> bytes:
        return hkdf_sha256(self.key, self.salt, b"key-" + canonical_disk_uuid(disk_uuid).encode())

    def measurement_secret(self) -> bytes:
        return hkdf_sha256(self.key, self.salt, b"key-measurementSecret")

    def cluster_id(self, measurement_salt: bytes) -> bytes:
        return hkdf_sha256(self.measurement_secret(), measurement_salt, b"key-clusterID")

    def kms_uri(self) -> str:
        """URL-safe base64 *with* padding and no percent-escaping, as upstream's uri package writes it."""
        key = base64.urlsafe_b64encode(self.key).decode()
        salt = base64.urlsafe_b64encode(self.salt).decode()
        return f"kms://cluster-kms?key={key}&salt={salt}"

    def check_cluster(self, cluster_id_hex: str, measurement_salt_hex: str) -> None:
        """Refuse a master secret that does not derive this cluster's ID (before anything is sent)."""
        try:
            expected = bytes.fromhex(cluster_id_hex)
            salt = bytes.fromhex(measurement_salt_hex)
        except ValueError as exc:
            raise MasterSecretError(
                "cluster_id and measurement_salt must be hex, as in constellation-state.yaml"
            ) from exc
        if not hmac.compare_digest(self.cluster_id(salt), expected):
            raise MasterSecretError(
                "the master secret does not belong to this cluster: it does not derive clusterValues.clusterID "
                "of constellation-state.yaml. Nothing was sent."
            )


def file_mode_warning(path: str) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"master secret file {path} is readable by group or others (mode {stat.S_IMODE(mode):04o}); chmod 600 it"
    return None
