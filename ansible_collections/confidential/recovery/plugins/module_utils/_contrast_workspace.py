# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The seed-share owner's workspace: decrypt the seed, build the client identity, read the manifest.

Lengths and formats are checked before anything is dialled (docs/contrast-protocol.md, Workspace and seed), and
errors name the file at fault without echoing any key material.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os

from ._atls import ClientIdentity

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

SEED_LENGTH = 64
SALT_LENGTH = 32
SEEDSHARE_LABEL = b"seedshare"


class WorkspaceError(Exception):
    """A workspace file is missing or malformed, or the share cannot be decrypted."""


class Workspace:
    def __init__(self, manifest_file: str, seed_shares_file: str = "", owner_key_file: str = ""):
        self.manifest_file = manifest_file
        self.seed_shares_file = seed_shares_file
        self.owner_key_file = owner_key_file

    def manifest(self) -> dict:
        raw = _read(self.manifest_file)
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise WorkspaceError(f"{self.manifest_file} is not valid JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise WorkspaceError(f"{self.manifest_file} is not a JSON object")
        return manifest

    def reference_values(self) -> dict:
        """The manifest's ReferenceValues ({"snp": [...], "tdx": [...]}), what a Coordinator's hardware must show."""
        values = self.manifest().get("ReferenceValues") or {}
        if not isinstance(values, dict):
            raise WorkspaceError(f"{self.manifest_file}: ReferenceValues is not a JSON object")
        return {str(key).lower(): value for key, value in values.items()}  # Go reads JSON keys case-insensitively

    def coordinator_policy_hashes(self) -> list[str]:
        policies = self.manifest().get("Policies") or {}
        if not isinstance(policies, dict):
            return []
        return [h for h, entry in policies.items() if isinstance(entry, dict) and entry.get("Role") == "coordinator"]

    def owner_key(self):
        raw = _read(self.owner_key_file)
        if b"-----BEGIN RSA PRIVATE KEY-----" not in raw:
            raise WorkspaceError(f"{self.owner_key_file}: invalid key type (want a PEM 'RSA PRIVATE KEY', PKCS#1)")
        try:
            key = serialization.load_pem_private_key(raw, password=None)
        except (ValueError, TypeError) as exc:
            raise WorkspaceError(f"{self.owner_key_file} is not a readable RSA private key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise WorkspaceError(f"{self.owner_key_file}: invalid key type")
        return key

    def _shares_and_salt(self) -> tuple[list, bytes]:
        try:
            doc = json.loads(_read(self.seed_shares_file))
        except ValueError as exc:
            raise WorkspaceError(f"{self.seed_shares_file} is not valid JSON") from exc
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{self.seed_shares_file} is not a JSON object (want SeedShares and salt)")
        shares, salt_text = doc.get("SeedShares"), doc.get("salt")
        if not isinstance(shares, list):
            raise WorkspaceError(f"{self.seed_shares_file}: SeedShares must be a list, got {type(shares).__name__}")
        if not isinstance(salt_text, str):
            raise WorkspaceError(f"{self.seed_shares_file}: salt must be a base64 string")
        try:
            salt = base64.b64decode(salt_text, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise WorkspaceError(f"{self.seed_shares_file}: salt is not valid base64") from exc
        if len(salt) != SALT_LENGTH:
            raise WorkspaceError(f"{self.seed_shares_file}: salt is {len(salt)} bytes, want {SALT_LENGTH}")
        return shares, salt

    def seed_and_salt(self) -> tuple[bytes, bytes]:
        """Decrypt the first share for the owner key that decrypts cleanly; a corrupt one does not hide a good one."""
        key = self.owner_key()
        public_hex = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1).hex()
        shares, salt = self._shares_and_salt()
        matching = [s for s in shares if isinstance(s, dict) and str(s.get("PublicKey", "")).lower() == public_hex]
        if not matching:
            raise WorkspaceError(f"no matching seed share found in {self.seed_shares_file} for {self.owner_key_file}")
        problems = []
        for index, share in enumerate(matching):
            try:
                encrypted = base64.b64decode(share["EncryptedSeed"], validate=True)
                seed = key.decrypt(encrypted, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                           label=SEEDSHARE_LABEL))
            except (ValueError, KeyError, TypeError, binascii.Error):
                problems.append(f"share {index + 1} does not decrypt")
                continue
            if len(seed) != SEED_LENGTH:
                problems.append(f"share {index + 1} decrypts to {len(seed)} bytes, want {SEED_LENGTH}")
                continue
            return seed, salt
        raise WorkspaceError(
            f"cannot decrypt a seed share in {self.seed_shares_file} with {self.owner_key_file} "
            f"({'; '.join(problems)}: corrupted, or encrypted to another key)"
        )

    def client_identity(self) -> ClientIdentity:
        """A self-signed certificate on the seedshare owner key: the Coordinator authorizes the key."""
        key = self.owner_key()
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contrast")])
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=2)).not_valid_after(now + datetime.timedelta(hours=2))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        return ClientIdentity(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise WorkspaceError(f"{path} does not exist") from exc
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from exc


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def public_key_der(pem: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(pem)
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
