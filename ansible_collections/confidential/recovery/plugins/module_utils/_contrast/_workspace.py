# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The seed-share owner's workspace: decrypt the seed, build the client identity, read the manifest.

Lengths and formats are checked before anything is dialled (docs/contrast-protocol.md, Workspace and seed), and
errors name the file at fault without echoing any key material.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from .._net._atls import ClientIdentity

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

    def coordinator_policy_hashes(self, explicit: str | None = None) -> list[str]:
        """The policy hashes a Coordinator's HOST_DATA (SNP) or MRCONFIGID (TDX) must show: ``explicit`` when given
        (the user's word, as upstream's --coordinator-policy-hash), else those the manifest gives the coordinator
        role. Never empty: WorkspaceError says how to supply one when neither has any."""
        named = coordinator_hashes_in(self.manifest().get("Policies"), self.manifest_file)
        if explicit:
            return [policy_hash(explicit, "coordinator_policy_hash")]
        if named.hashes:
            return named.hashes
        raise WorkspaceError(
            f"{self.manifest_file} names no Coordinator policy ({named.form}), so nothing tells the Coordinator from "
            "any other pod VM of the deployment and the seed would go to whichever answers. Give coordinator_policy_hash: "
            "the SHA-256 of the Coordinator's policy, which Contrast v1.6 and older embedded in the CLI release (the "
            "release's coordinator-policy-hash, or the value you passed as --coordinator-policy-hash to `contrast set`)"
        )

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

    def check_owner_authorized(self) -> None:
        """The manifest's SeedshareOwnerPubKeys must hold the owner key (hex of its PKCS#1 DER): the Coordinator
        authorizes the client certificate's key against that list and refuses any other. Checked without dialling."""
        owners = self.manifest().get("SeedshareOwnerPubKeys")
        if not isinstance(owners, list):
            raise WorkspaceError(f"{self.manifest_file}: SeedshareOwnerPubKeys is not a list, so no key may recover")
        public_hex = (
            self.owner_key()
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
            .hex()
        )
        if not any(isinstance(entry, str) and entry.lower() == public_hex for entry in owners):
            raise WorkspaceError(
                f"{self.owner_key_file} is not a seed-share owner of {self.manifest_file} (its SeedshareOwnerPubKeys "
                f"lists {len(owners)} other key(s)): the Coordinator would refuse it"
            )

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
                seed = key.decrypt(
                    encrypted,
                    padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=SEEDSHARE_LABEL),
                )
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
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contrast")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=2))
            .not_valid_after(now + datetime.timedelta(hours=2))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return ClientIdentity(cert.public_bytes(serialization.Encoding.PEM), key_pem)


COORDINATOR_ROLE = "coordinator"
POLICY_HASH_HEX_LENGTH = 64


@dataclass(frozen=True)
class CoordinatorPolicies:
    hashes: list
    form: str  # which of Contrast's manifest forms the Policies field has, in words


def policy_hash(value, where: str) -> str:
    """A policy hash as the manifest writes it: 64 hex digits (SHA-256), lowercased."""
    text = value if isinstance(value, str) else ""
    if len(text) != POLICY_HASH_HEX_LENGTH or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise WorkspaceError(f"{where} is not a policy hash (64 hex digits, a SHA-256): {str(value)[:80]!r}")
    return text.lower()


def coordinator_hashes_in(policies, source: str) -> CoordinatorPolicies:
    """Contrast's manifests have given ``Policies`` three forms:
    - hash -> list of names (up to v0.7): no roles, the Coordinator's hash came with the CLI;
    - hash -> {SANs, WorkloadSecretID} (v0.8 to v1.6): likewise;
    - hash -> {SANs, WorkloadSecretID, Role} (v1.7 on): Role "coordinator" marks the Coordinator's policies (one until
      mid-2026, then one or more).
    """
    if policies is None or policies == {}:
        return CoordinatorPolicies([], "it has no Policies")
    if not isinstance(policies, dict):
        raise WorkspaceError(f"{source}: Policies is not a JSON object")
    entries = list(policies.values())
    if all(isinstance(entry, list) for entry in entries):
        return CoordinatorPolicies([], "Policies maps hashes to names, the form of Contrast v0.7 and older")
    if not all(isinstance(entry, dict) for entry in entries):
        raise WorkspaceError(
            f"{source}: Policies mixes forms; each entry must be an object (or, in old manifests, a list of names)"
        )
    hashes = [
        policy_hash(key, f"{source}: the Policies key of a coordinator entry")
        for key, entry in policies.items()
        if entry.get("Role") == COORDINATOR_ROLE
    ]
    if hashes:
        return CoordinatorPolicies(hashes, f"{len(hashes)} with Role {COORDINATOR_ROLE!r}")
    if any("Role" in entry for entry in entries):
        return CoordinatorPolicies([], f"no Policies entry has Role {COORDINATOR_ROLE!r}")
    return CoordinatorPolicies([], "its Policies entries have no Role, the form of Contrast v0.8 to v1.6")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise WorkspaceError(f"{path} does not exist") from exc
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from exc


def public_key_der(pem: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(pem)
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
