# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Seed-share decryption and the seedshare owner's client certificate, against fixtures made here."""

from __future__ import annotations

import base64
import datetime
import json
import re

import pytest
from contrast_workspace import write_workspace
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._workspace import (
    Workspace,
    WorkspaceError,
)


@pytest.fixture(scope="module")
def owner():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_decrypts_the_seed_and_salt(tmp_path, owner):
    seed, salt = bytes(range(64)), bytes(range(100, 132))
    assert write_workspace(tmp_path, owner, seed, salt).seed_and_salt() == (seed, salt)


def test_share_encrypted_without_the_seedshare_label_is_rejected(tmp_path, owner):
    unlabelled = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ws = write_workspace(tmp_path, owner, bytes(64), bytes(32), label_oaep=unlabelled)
    with pytest.raises(WorkspaceError, match="cannot decrypt a seed share"):
        ws.seed_and_salt()


def test_share_for_another_owner_is_not_used(tmp_path, owner):
    ws = write_workspace(tmp_path, owner, bytes(64), bytes(32))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "seedshare-owner.pem").write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    with pytest.raises(WorkspaceError, match="no matching seed share found"):
        ws.seed_and_salt()


@pytest.mark.parametrize(
    ("seed", "salt", "message"),
    [(bytes(32), bytes(32), "decrypts to 32 bytes, want 64"), (bytes(64), bytes(16), "salt is 16 bytes")],
)
def test_lengths_are_checked_before_anything_is_sent(tmp_path, owner, seed, salt, message):
    with pytest.raises(WorkspaceError, match=message):
        write_workspace(tmp_path, owner, seed, salt).seed_and_salt()


def test_an_ec_key_is_an_invalid_key_type(tmp_path, owner):
    ec_pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    ws = write_workspace(tmp_path, owner, bytes(64), bytes(32), key_pem=ec_pem)
    with pytest.raises(WorkspaceError, match="invalid key type"):
        ws.seed_and_salt()


def test_client_certificate_is_self_signed_on_the_owner_key(tmp_path, owner):
    identity = write_workspace(tmp_path, owner, bytes(64), bytes(32)).client_identity()
    cert = x509.load_pem_x509_certificate(identity.cert_pem)
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    der = serialization.PublicFormat.PKCS1
    assert cert.public_key().public_bytes(serialization.Encoding.DER, der) == owner.public_key().public_bytes(
        serialization.Encoding.DER, der
    )
    assert key.private_numbers() == owner.private_numbers()
    cert.verify_directly_issued_by(cert)
    assert cert.subject.rfc4514_string() == "CN=Contrast"
    now = datetime.datetime.now(datetime.UTC)
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(hours=4)


def test_coordinator_policy_hashes_come_from_the_manifest(tmp_path, owner):
    assert write_workspace(tmp_path, owner, bytes(64), bytes(32)).coordinator_policy_hashes() == ["ab" * 32]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"SeedShares": 42, "salt": base64.b64encode(bytes(32)).decode()}, "SeedShares must be a list, got int"),
        ({"SeedShares": [], "salt": 7}, "salt must be a base64 string"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_malformed_seed_shares_are_clear_errors(tmp_path, owner, doc, message):
    ws = write_workspace(tmp_path, owner, bytes(64), bytes(32))
    (tmp_path / "seed-shares.json").write_text(json.dumps(doc))
    with pytest.raises(WorkspaceError, match=message):
        ws.seed_and_salt()


def test_a_corrupt_share_listed_first_does_not_hide_a_valid_one(tmp_path, owner):
    seed, salt = bytes(range(64)), bytes(range(100, 132))
    ws = write_workspace(tmp_path, owner, seed, salt)
    doc = json.loads((tmp_path / "seed-shares.json").read_text())
    corrupt = dict(doc["SeedShares"][0])
    raw = bytearray(base64.b64decode(corrupt["EncryptedSeed"]))
    raw[10] ^= 0xFF
    corrupt["EncryptedSeed"] = base64.b64encode(bytes(raw)).decode()
    doc["SeedShares"].insert(0, corrupt)
    (tmp_path / "seed-shares.json").write_text(json.dumps(doc))
    assert ws.seed_and_salt() == (seed, salt)


def test_only_corrupt_shares_name_each_problem(tmp_path, owner):
    ws = write_workspace(tmp_path, owner, bytes(64), bytes(32))
    doc = json.loads((tmp_path / "seed-shares.json").read_text())
    doc["SeedShares"][0]["EncryptedSeed"] = base64.b64encode(bytes(256)).decode()
    (tmp_path / "seed-shares.json").write_text(json.dumps(doc))
    with pytest.raises(WorkspaceError, match="share 1 does not decrypt"):
        ws.seed_and_salt()


def test_an_owner_key_the_manifest_lists_is_authorized(tmp_path, owner):
    write_workspace(tmp_path, owner, bytes(64), bytes(32)).check_owner_authorized()


@pytest.mark.parametrize(
    "owners, message",
    [
        ([], "lists 0 other key(s)"),
        (["00" * 270, 7, None], "lists 3 other key(s)"),
        ("not a list", "SeedshareOwnerPubKeys is not a list"),
        (None, "SeedshareOwnerPubKeys is not a list"),
    ],
)
def test_an_owner_key_the_manifest_does_not_list_would_be_refused(tmp_path, owner, owners, message):
    workspace = write_workspace(tmp_path, owner, bytes(64), bytes(32))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["SeedshareOwnerPubKeys"] = owners
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WorkspaceError, match=re.escape(message)):
        workspace.check_owner_authorized()


COORDINATOR, WORKLOAD, OTHER_COORDINATOR = "ab" * 32, "cd" * 32, "ef" * 32


def manifest_with(tmp_path, policies) -> Workspace:
    (tmp_path / "manifest.json").write_text(json.dumps({"Policies": policies}))
    return Workspace(str(tmp_path / "manifest.json"))


@pytest.mark.parametrize(
    "policies, expected",
    [
        ({COORDINATOR: {"SANs": ["coordinator"], "Role": "coordinator"}, WORKLOAD: {"SANs": ["web"]}}, [COORDINATOR]),
        (
            {
                COORDINATOR.upper(): {"SANs": ["coordinator"], "Role": "coordinator"},
                OTHER_COORDINATOR: {"SANs": ["coordinator"], "Role": "coordinator"},
            },
            [COORDINATOR, OTHER_COORDINATOR],
        ),
    ],
)
def test_the_coordinator_policies_of_a_manifest_with_roles(tmp_path, policies, expected):
    assert manifest_with(tmp_path, policies).coordinator_policy_hashes() == expected


@pytest.mark.parametrize(
    "policies, form",
    [
        ({COORDINATOR: ["coordinator"], WORKLOAD: ["web", "*"]}, "hashes to names, the form of Contrast v0.7"),
        (
            {COORDINATOR: {"SANs": ["coordinator"]}, WORKLOAD: {"SANs": ["web"], "WorkloadSecretID": "web"}},
            "no Role, the form of Contrast v0.8 to v1.6",
        ),
        ({WORKLOAD: {"SANs": ["web"], "Role": ""}}, "no Policies entry has Role 'coordinator'"),
        ({}, "it has no Policies"),
    ],
)
def test_a_manifest_that_names_no_coordinator_is_refused_with_how_to_give_the_hash(tmp_path, policies, form):
    with pytest.raises(WorkspaceError, match="Give coordinator_policy_hash") as refused:
        manifest_with(tmp_path, policies).coordinator_policy_hashes()
    assert form in str(refused.value)


def test_an_explicit_hash_serves_an_older_manifest_and_replaces_the_manifests(tmp_path):
    old = manifest_with(tmp_path, {WORKLOAD: ["web"]})
    assert old.coordinator_policy_hashes(OTHER_COORDINATOR.upper()) == [OTHER_COORDINATOR]
    new = manifest_with(tmp_path, {COORDINATOR: {"SANs": [], "Role": "coordinator"}})
    assert new.coordinator_policy_hashes(OTHER_COORDINATOR) == [OTHER_COORDINATOR]


@pytest.mark.parametrize("explicit", ["ab" * 31, "zz" * 32, "ab" * 33])
def test_an_explicit_hash_that_is_not_a_sha256_is_refused(tmp_path, explicit):
    with pytest.raises(WorkspaceError, match="coordinator_policy_hash is not a policy hash"):
        manifest_with(tmp_path, {WORKLOAD: ["web"]}).coordinator_policy_hashes(explicit)


@pytest.mark.parametrize(
    "policies, message",
    [
        (["coordinator"], "Policies is not a JSON object"),
        ({COORDINATOR: {"Role": "coordinator"}, WORKLOAD: ["web"]}, "Policies mixes forms"),
        ({"not-a-hash": {"Role": "coordinator"}}, "is not a policy hash"),
    ],
)
def test_a_malformed_policies_field_is_named(tmp_path, policies, message):
    with pytest.raises(WorkspaceError, match=message):
        manifest_with(tmp_path, policies).coordinator_policy_hashes()
