# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The files a recovery reads from a workspace: Contrast's manifest.json and seed-shares.json, Constellation's
constellation-state.yaml and constellation-id.json. Any content raises the reader's typed error or reads cleanly."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st
from mutations import JSON_VALUES, mutated_bytes, mutated_json, only

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._workspace import (
    Workspace,
    WorkspaceError,
)
from ansible_collections.confidential.recovery.plugins.plugin_utils._constellation_state import (
    StateError,
    parse_workspace_file,
)

OWNER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OWNER_HEX = OWNER.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1).hex()
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"seedshare")
ENCRYPTED_SEED = base64.b64encode(OWNER.public_key().encrypt(bytes(64), OAEP)).decode()
SEED_SHARES = {
    "SeedShares": [{"PublicKey": OWNER_HEX, "EncryptedSeed": ENCRYPTED_SEED}],
    "salt": base64.b64encode(bytes(32)).decode(),
}
MANIFEST = {
    "Policies": {
        "ab" * 32: {"SANs": ["coordinator"], "WorkloadSecretID": "c", "Role": "coordinator"},
        "cd" * 32: {"SANs": ["web", "*"]},
    },
    "ReferenceValues": {"SNP": [{"ProductName": "Milan", "TrustedMeasurement": "00" * 48}], "TDX": []},
    "WorkloadOwnerKeyDigests": ["ef" * 32],
    "SeedshareOwnerPubKeys": [OWNER_HEX],
}
INFRASTRUCTURE = {"uid": "9f3c1a7e", "clusterEndpoint": "192.0.2.10", "name": "constell", "gcp": {"projectID": "p"}}
STATE_YAML = {
    "version": "v1",
    "infrastructure": INFRASTRUCTURE,
    "clusterValues": {"clusterID": "11" * 32, "measurementSalt": "22" * 32, "ownerID": "33" * 32},
}
ID_JSON = {
    "clusterID": base64.b64encode(bytes(32)).decode(),
    "uid": "9f3c1a7e",
    "ip": "192.0.2.10",
    "measurementSalt": base64.b64encode(bytes(32)).decode(),
    "cloudprovider": "GCP",
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    directory = tmp_path_factory.mktemp("workspace")
    (directory / "seedshare-owner.pem").write_bytes(
        OWNER.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return directory


def read_all(directory, manifest: bytes, shares: bytes):
    (directory / "manifest.json").write_bytes(manifest)
    (directory / "seed-shares.json").write_bytes(shares)
    ws = Workspace(
        str(directory / "manifest.json"), str(directory / "seed-shares.json"), str(directory / "seedshare-owner.pem")
    )
    for reader in (ws.manifest, ws.reference_values, ws.coordinator_policy_hashes, ws.seed_and_salt):
        only(WorkspaceError, reader)


def test_the_genuine_files_read(workspace):
    read_all(workspace, json.dumps(MANIFEST).encode(), json.dumps(SEED_SHARES).encode())
    (workspace / "manifest.json").write_text(json.dumps(MANIFEST))
    (workspace / "seed-shares.json").write_text(json.dumps(SEED_SHARES))
    ws = Workspace(
        str(workspace / "manifest.json"), str(workspace / "seed-shares.json"), str(workspace / "seedshare-owner.pem")
    )
    assert ws.coordinator_policy_hashes() == ["ab" * 32] and ws.seed_and_salt() == (bytes(64), bytes(32))
    assert parse_workspace_file(yaml.safe_dump(STATE_YAML), "s").uid == "9f3c1a7e"
    assert parse_workspace_file(json.dumps(ID_JSON), "i").uid == "9f3c1a7e"


def _json_text(seed):
    return st.one_of(
        mutated_json(seed).map(lambda v: json.dumps(v).encode()),
        mutated_bytes(json.dumps(seed).encode()),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    )


@given(_json_text(MANIFEST))
def test_manifest(workspace, manifest):
    read_all(workspace, manifest, json.dumps(SEED_SHARES).encode())


@given(_json_text(SEED_SHARES))
def test_seed_shares(workspace, shares):
    read_all(workspace, json.dumps(MANIFEST).encode(), shares)


@given(
    st.one_of(
        mutated_json(STATE_YAML).map(yaml.safe_dump),
        mutated_bytes(yaml.safe_dump(STATE_YAML).encode()).map(lambda b: b.decode("utf-8", "replace")),
    )
)
def test_constellation_state_yaml(text):
    only(StateError, parse_workspace_file, text, "constellation-state.yaml")


@given(
    st.one_of(mutated_json(ID_JSON).map(json.dumps), st.text(max_size=300)),
    st.none()
    | _json_text({"uid": "9f3c1a7e", "name": "constell", "cloudprovider": "GCP", "gcpproject": "p"}).map(
        lambda b: b.decode("utf-8", "replace")
    ),
)
def test_constellation_id_json(text, legacy):
    only(StateError, parse_workspace_file, text, "constellation-id.json", legacy)
