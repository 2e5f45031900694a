# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's workspace faults: another cluster's master secret and another deployment's seed shares, in valid formats
so that only the real checks can tell them apart, and restored byte for byte."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._workspace import (
    Workspace,
    WorkspaceError,
)
from conflab import workspace_faults
from conflab.constellation.keys import MasterSecret, cluster_id


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "contrast").mkdir()
    own_secret = MasterSecret(b"k" * 32, b"s" * 32).to_json()
    (tmp_path / "constellation-mastersecret.json").write_text(own_secret)
    (tmp_path / "contrast" / "seed-shares.json").write_text('{"SeedShares": [], "salt": ""}')
    return tmp_path


def test_a_foreign_master_secret_derives_another_cluster_id_and_is_restored(workspace):
    path = workspace / "constellation-mastersecret.json"
    own = path.read_text()

    workspace_faults.apply(workspace, workspace_faults.FOREIGN_MASTER_SECRET)
    foreign = MasterSecret.load(path)
    ours = MasterSecret(b"k" * 32, b"s" * 32)
    assert cluster_id(foreign.measurement_secret(), b"m" * 32) != cluster_id(ours.measurement_secret(), b"m" * 32)
    assert path.stat().st_mode & 0o077 == 0

    assert workspace_faults.restore(workspace) == [path]
    assert path.read_text() == own


def test_foreign_seed_shares_are_valid_but_for_another_owner(workspace, tmp_path):
    path = workspace / "contrast" / "seed-shares.json"
    workspace_faults.apply(workspace, workspace_faults.FOREIGN_SEED_SHARES)
    doc = json.loads(path.read_text())
    assert len(doc["SeedShares"]) == 1 and len(bytes.fromhex(doc["SeedShares"][0]["PublicKey"])) > 200

    owner = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "owner.pem"
    key_file.write_bytes(
        owner.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    with pytest.raises(WorkspaceError, match="no matching seed share"):
        Workspace("", str(path), str(key_file)).seed_and_salt()

    workspace_faults.restore(workspace)
    assert path.read_text() == '{"SeedShares": [], "salt": ""}'


def test_applying_twice_keeps_the_first_original(workspace):
    path = workspace / "constellation-mastersecret.json"
    own = path.read_text()
    workspace_faults.apply(workspace, workspace_faults.FOREIGN_MASTER_SECRET)
    workspace_faults.apply(workspace, workspace_faults.FOREIGN_MASTER_SECRET)
    workspace_faults.restore(workspace)
    assert path.read_text() == own
