# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every workspace form the Constellation CLI wrote: state YAML v1 (hex, and v2.12's integer lists), constellation-id.json
(v2.2 to v2.11), and the v2.0 to v2.1 constellation-state.json beside its id file."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.confidential.recovery.plugins.plugin_utils._constellation_state import (
    ClusterState,
    StateError,
    cloud_location,
    parse_workspace_file,
    terraform_name,
)

CLUSTER_ID = "6c2f0e" + "ab" * 29
SALT = "a81b3c" + "cd" * 29

CURRENT = f"""\
version: v1
infrastructure:
    uid: 9f3c1a7e
    clusterEndpoint: constell-9f3c1a7e-loadbalancer-4d2c8e1f0a6b3c57.elb.eu-west-1.amazonaws.com
    inClusterEndpoint: constell-9f3c1a7e-loadbalancer-4d2c8e1f0a6b3c57.elb.eu-west-1.amazonaws.com
    initSecret: {"51" * 32}
    name: constell-9f3c1a7e
    ipCidrNode: 192.168.176.0/20
clusterValues:
    clusterID: {CLUSTER_ID}
    ownerID: ""
    measurementSalt: {SALT}
"""


def test_the_current_state_file_gives_uid_endpoint_and_values():
    state = parse_workspace_file(CURRENT, "constellation-state.yaml")
    assert (state.uid, state.name, state.cluster_id, state.measurement_salt) == (
        "9f3c1a7e",
        "constell-9f3c1a7e",
        CLUSTER_ID,
        SALT,
    )
    assert state.cluster_endpoint.endswith(".elb.eu-west-1.amazonaws.com") and state.form == "state-yaml-v1"


def test_v2_12_integer_lists_read_as_the_same_bytes():
    as_lists = CURRENT.replace(f"clusterID: {CLUSTER_ID}", f"clusterID: {list(bytes.fromhex(CLUSTER_ID))}").replace(
        f"measurementSalt: {SALT}", f"measurementSalt: {list(bytes.fromhex(SALT))}"
    )
    state = parse_workspace_file(as_lists, "constellation-state.yaml")
    assert (state.cluster_id, state.measurement_salt) == (CLUSTER_ID, SALT)


def test_azure_and_gcp_blocks_name_the_cloud():
    azure = CURRENT.replace(
        "    ipCidrNode: 192.168.176.0/20\n",
        "    ipCidrNode: 10.9.0.0/16\n    azure:\n"
        "        resourceGroup: constell-rg\n        subscriptionID: 0d202bbb-4fa7-4af8-8125-58c269a05435\n",
    )
    state = parse_workspace_file(azure, "s.yaml")
    assert state.cloud == "azure" and state.azure == {
        "resource_group": "constell-rg",
        "subscription_id": "0d202bbb-4fa7-4af8-8125-58c269a05435",
    }
    gcp = CURRENT.replace("    ipCidrNode: 192.168.176.0/20\n", "    gcp:\n        projectID: my-project-123\n")
    assert parse_workspace_file(gcp, "s.yaml").gcp == {"project_id": "my-project-123"}


def test_an_id_file_of_v2_2_to_v2_11_reads_base64_values():
    doc = {
        "clusterID": base64.b64encode(bytes.fromhex(CLUSTER_ID)).decode(),
        "ownerID": "",
        "uid": "0b7d22e4",
        "cloudprovider": "GCP",
        "ip": "34.117.20.143",
        "measurementSalt": base64.b64encode(bytes.fromhex(SALT)).decode(),
    }
    state = parse_workspace_file(json.dumps(doc), "constellation-id.json")
    assert (state.uid, state.cluster_endpoint, state.cloud, state.cluster_id, state.measurement_salt, state.form) == (
        "0b7d22e4",
        "34.117.20.143",
        "gcp",
        CLUSTER_ID,
        SALT,
        "id-json",
    )


def test_a_v2_0_cluster_reads_its_state_json_beside_the_id_file():
    legacy = {
        "name": "constell",
        "uid": "a1b2c",
        "cloudprovider": "Azure",
        "azureresourcegroup": "rg",
        "azuresubscription": "sub",
    }
    doc = {"clusterID": base64.b64encode(bytes.fromhex(CLUSTER_ID)).decode(), "ip": "20.113.45.7"}
    state = parse_workspace_file(json.dumps(doc), "constellation-id.json", legacy_state_text=json.dumps(legacy))
    assert (state.uid, state.cloud, state.azure["resource_group"], state.form) == (
        "a1b2c",
        "azure",
        "rg",
        "state-json-v2.0",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: v2\n", "expected version: v1"),
        (CURRENT.replace("uid: 9f3c1a7e", "uid: ''"), "no cluster uid"),
        (CURRENT.replace("uid: 9f3c1a7e", "uid: NOT-A-UID"), "is not a Constellation uid"),
        (CURRENT.replace(f"clusterID: {CLUSTER_ID}", "clusterID: xyz"), "clusterValues.clusterID is not hex"),
        ("{not yaml", "neither YAML nor JSON"),
        ('{"ownerID": ""}', "not a constellation-id.json"),
    ],
)
def test_bad_files_are_named_with_what_is_wrong(text, message):
    with pytest.raises(StateError, match=message):
        parse_workspace_file(text, "file")


def test_a_terraform_provider_cluster_comes_from_the_options():
    state = ClusterState.from_values("9f3c1a7e", "10.0.0.1")
    assert state.form == "options" and state.uid == "9f3c1a7e"
    with pytest.raises(StateError, match="no cluster endpoint"):
        ClusterState.from_values("9f3c1a7e", "")


def test_the_config_says_where_the_cluster_runs():
    assert cloud_location({"provider": {"aws": {"region": "eu-west-1", "zone": "eu-west-1a"}}}) == {
        "cloud": "aws",
        "region": "eu-west-1",
        "zone": "eu-west-1a",
    }
    assert (
        cloud_location({"provider": {"gcp": {"project": "p", "region": "europe-west3", "zone": "europe-west3-b"}}})[
            "project"
        ]
        == "p"
    )
    assert cloud_location({}) == {}


@pytest.mark.parametrize(
    "name, conf, expected",
    [
        ("constell-0b7d22e4", {}, "constell-0b7d22e4"),  # the YAML state file: already joined
        ("constell", {}, "constell-0b7d22e4"),  # CLI v2.0 and v2.1 constellation-state.json: the configured name
        ("", {"name": "prod"}, "prod-0b7d22e4"),  # CLI v2.2 to v2.11: only the config names the cluster
        ("", {}, "constell-0b7d22e4"),  # the CLI's default name
    ],
)
def test_the_terraform_name_joins_the_configured_name_and_the_uid(name, conf, expected):
    state = ClusterState(uid="0b7d22e4", cluster_endpoint="34.1.2.3", source="test", name=name)
    assert terraform_name(state, conf) == expected
