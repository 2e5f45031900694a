# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""``ansible-inventory`` with the constellation inventory plugin, as a user runs it: the aws provider against a moto
server on loopback, the lab and static providers, every workspace form, constructed groups and the cache."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cluster
import pytest
import yaml

REPO = Path(__file__).resolve().parents[7]
BIN = Path(sys.executable).parent
UID = "9f3c1a7e"
CLUSTER_ID = "6c2f0e" + "ab" * 29
SALT = "a81b3c" + "cd" * 29


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server._server.server_port}"  # pylint: disable=protected-access
    yield url
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch, tmp_path):
    """A fresh moto account per test (moto's reset API), fake credentials, no instance metadata service."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10).close()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(aws_cluster.ENDPOINT, "url", moto_server)
    return moto_server


def workspace(tmp_path: Path, *, state=True, region="eu-west-1", **inventory) -> Path:
    if state:
        (tmp_path / "constellation-state.yaml").write_text(
            yaml.safe_dump(
                {
                    "version": "v1",
                    "infrastructure": {
                        "uid": UID,
                        "clusterEndpoint": "constell.elb.eu-west-1.amazonaws.com",
                        "name": f"constell-{UID}",
                    },
                    "clusterValues": {"clusterID": CLUSTER_ID, "ownerID": "", "measurementSalt": SALT},
                }
            )
        )
    if region:
        (tmp_path / "constellation-conf.yaml").write_text(
            yaml.safe_dump({"version": "v4", "name": "constell", "provider": {"aws": {"region": region}}})
        )
    source = tmp_path / "cluster.constellation.yml"
    source.write_text(yaml.safe_dump({"plugin": "confidential.recovery.constellation", **inventory}))
    return source


def ansible_inventory(source: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_INVENTORY_ENABLED="confidential.recovery.constellation",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        ANSIBLE_HOME=str(source.parent / ".ansible"),
    )
    return subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def plain(value):
    """ansible-core 2.19 lists strings a plugin found (untrusted for templating) as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def first_host(inventory: dict, group: str = "constellation_control_plane") -> dict:
    """The variables of the group's first host; --list gives group variables only merged into the hosts."""
    return inventory["_meta"]["hostvars"][inventory[group]["hosts"][0]]


def listing(source: Path, *args: str) -> dict:
    result = ansible_inventory(source, "--list", *args)
    assert result.returncode == 0, result.stderr
    return plain(json.loads(result.stdout))


def test_graph_of_a_current_cluster_on_aws(aws, tmp_path):
    aws_cluster.current_cluster(UID)
    aws_cluster.current_cluster("11111111")
    source = workspace(tmp_path, provider="aws", endpoint_url=aws)

    graph = ansible_inventory(source, "--graph")

    assert graph.returncode == 0, graph.stderr
    assert "@constellation:" in graph.stdout and "@constellation_control_plane:" in graph.stdout
    inventory = listing(source)
    control_plane = inventory["constellation_control_plane"]["hosts"]
    assert len(control_plane) == 3 and len(inventory["constellation_worker"]["hosts"]) == 2
    host = inventory["_meta"]["hostvars"][control_plane[0]]
    assert host["ansible_host"].startswith("192.168.") and host["ansible_connection"] == "local"
    assert host["constellation_node_group"] == "control_plane_default"
    assert host["constellation_cloud"]["auto_scaling_group"] == f"constell-{UID}-control-plane-5e6f7a8b"
    assert host["constellation_boot_log"]["source"] == "aws-console-output"
    assert host["constellation_cluster_uid"] == UID and host["constellation_cluster_id"] == CLUSTER_ID


def test_an_upgraded_cluster_with_old_names_groups_by_role_and_keyed_groups_work(aws, tmp_path):
    aws_cluster.upgraded_cluster(UID)
    source = workspace(
        tmp_path,
        provider="aws",
        endpoint_url=aws,
        keyed_groups=[{"key": "constellation_node_group", "prefix": "node_group"}],
        compose={"instance_id": "constellation_cloud.instance_id"},
    )
    inventory = listing(source)
    assert len(inventory["constellation_control_plane"]["hosts"]) == 3
    assert len(inventory["node_group_control_plane_default"]["hosts"]) == 3
    host = inventory["_meta"]["hostvars"][inventory["constellation_worker"]["hosts"][0]]
    assert host["instance_id"].startswith("i-")


def test_a_v2_0_era_workspace_reads_the_id_and_state_json(aws, tmp_path):
    aws_cluster.current_cluster(UID)
    (tmp_path / "constellation-id.json").write_text(
        json.dumps(
            {
                "clusterID": base64.b64encode(bytes.fromhex(CLUSTER_ID)).decode(),
                "uid": UID,
                "ip": "34.1.2.3",
                "measurementSalt": base64.b64encode(bytes.fromhex(SALT)).decode(),
            }
        )
    )
    source = workspace(tmp_path, state=False, provider="aws", endpoint_url=aws)
    inventory = listing(source)
    assert first_host(inventory)["constellation_cluster_endpoint"] == "34.1.2.3"
    assert first_host(inventory)["constellation_measurement_salt"] == SALT
    assert len(inventory["constellation_control_plane"]["hosts"]) == 3
    # No name in constellation-id.json: the CloudWatch group of that era is named after the default cluster name.
    assert first_host(inventory)["constellation_boot_log"]["log_name"] == f"constell-{UID}"
    assert first_host(inventory)["constellation_boot_log"]["uid"] == UID


def test_a_terraform_provider_cluster_needs_only_uid_and_endpoint(aws, tmp_path):
    aws_cluster.current_cluster(UID)
    source = workspace(tmp_path, state=False, provider="aws", endpoint_url=aws, uid=UID, cluster_endpoint="10.0.0.1")
    assert len(listing(source)["constellation_worker"]["hosts"]) == 2


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty cluster", "no running instance carries constellation-uid=9f3c1a7e in AWS region eu-west-1"),
        ("no region", "the aws provider needs a region"),
        ("no credentials", "no AWS credentials for ec2:DescribeInstances"),
        ("no workspace", "no Constellation workspace file"),
    ],
)
def test_failures_say_what_to_do(aws, tmp_path, monkeypatch, setup, message):
    source = workspace(
        tmp_path,
        state=setup != "no workspace",
        region=None if setup == "no region" else "eu-west-1",
        provider="aws",
        endpoint_url=aws,
    )
    if setup == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = ansible_inventory(source, "--list")
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr


def test_the_cache_answers_the_second_run_without_asking_the_cloud(aws, tmp_path):
    aws_cluster.current_cluster(UID)
    source = workspace(
        tmp_path,
        provider="aws",
        endpoint_url=aws,
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(tmp_path / "cache"),
    )
    first = listing(source)
    # The cluster disappears from the cloud; the cached inventory still answers (until cache_timeout).
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{aws}/moto-api/reset", method="POST"), timeout=10).close()
    assert listing(source)["constellation_control_plane"] == first["constellation_control_plane"]
    assert list((tmp_path / "cache").iterdir())


def test_a_vault_encrypted_state_file_is_read_through_the_loader(aws, tmp_path):
    aws_cluster.current_cluster(UID)
    source = workspace(tmp_path, provider="aws", endpoint_url=aws)
    password = tmp_path / "vault-password"
    password.write_text("correct horse battery staple\n")
    state = tmp_path / "constellation-state.yaml"
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password), str(state)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert state.read_text().startswith("$ANSIBLE_VAULT")
    inventory = listing(source, "--vault-password-file", str(password))
    assert first_host(inventory)["constellation_cluster_id"] == CLUSTER_ID


def test_the_lab_and_static_providers_still_list_their_instances(tmp_path):
    (tmp_path / "lab-cloud.json").write_text(
        json.dumps(
            {
                "instances": [
                    {
                        "name": "cp-0",
                        "private_ip": "127.10.0.10",
                        "role": "control-plane",
                        "serial_console": "/x/console.log",
                    },
                    {"name": "w-0", "private_ip": "127.10.0.50", "role": "worker"},
                ]
            }
        )
    )
    inventory = listing(workspace(tmp_path, provider="lab", region=None))
    assert inventory["constellation_control_plane"]["hosts"] == ["cp-0"]
    assert inventory["_meta"]["hostvars"]["cp-0"]["constellation_serial_console"] == "/x/console.log"
    static = workspace(
        tmp_path,
        provider="static",
        region=None,
        instances=[{"name": "n", "private_ip": "10.9.0.5", "role": "ControlPlane"}],
    )
    assert listing(static)["_meta"]["hostvars"]["n"]["constellation_role"] == "control-plane"


def static_cluster(directory: Path, uid: str, names: list[str]) -> Path:
    directory.mkdir()
    (directory / "constellation-state.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "v1",
                "infrastructure": {
                    "uid": uid,
                    "clusterEndpoint": f"{directory.name}.example",
                    "name": f"{directory.name}-{uid}",
                },
                "clusterValues": {"clusterID": CLUSTER_ID, "ownerID": "", "measurementSalt": SALT},
            }
        )
    )
    source = directory / "cluster.constellation.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "plugin": "confidential.recovery.constellation",
                "provider": "static",
                "instances": [
                    {
                        "name": name,
                        "private_ip": f"10.9.0.{5 + i}",
                        "role": "worker" if "worker" in name else "control-plane",
                    }
                    for i, name in enumerate(names)
                ],
            }
        )
    )
    return source


def fleet_listing(*sources: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_INVENTORY_ENABLED="confidential.recovery.constellation",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        ANSIBLE_HOME=str(sources[0].parent / ".ansible"),
    )
    command = [str(BIN / "ansible-inventory"), "--list"]
    for source in sources:
        command += ["-i", str(source)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_a_fleet_keeps_each_clusters_hosts_and_workspace_apart(tmp_path):
    east = static_cluster(tmp_path / "east", "11111111", ["east-cp-0", "east-cp-1", "east-cp-2", "east-worker-0"])
    west = static_cluster(tmp_path / "west", "22222222", ["west-cp-0", "west-worker-0"])

    result = fleet_listing(east, west)

    assert result.returncode == 0, result.stderr
    inventory = plain(json.loads(result.stdout))
    assert inventory["constellation_cluster_east_11111111_control_plane"]["hosts"] == [
        "east-cp-0",
        "east-cp-1",
        "east-cp-2",
    ]
    assert inventory["constellation_cluster_west_22222222_worker"]["hosts"] == ["west-worker-0"]
    assert len(inventory["constellation_control_plane"]["hosts"]) == 4
    hostvars = inventory["_meta"]["hostvars"]
    assert hostvars["east-cp-0"]["constellation_workspace"] == str(tmp_path / "east")
    assert hostvars["west-cp-0"]["constellation_workspace"] == str(tmp_path / "west")
    assert hostvars["west-worker-0"]["constellation_cluster_group"] == "constellation_cluster_west_22222222"
    assert hostvars["east-cp-1"]["constellation_cluster_endpoint"] == "east.example"


def test_a_fleet_whose_clusters_share_a_node_name_is_refused(tmp_path):
    east = static_cluster(tmp_path / "east", "11111111", ["cp-0", "cp-1"])
    west = static_cluster(tmp_path / "west", "22222222", ["cp-0"])

    result = fleet_listing(east, west)

    assert result.returncode != 0
    # ansible-core folds long warnings at the terminal width, differently per version.
    assert (
        "host cp-0 is in the clusters constellation_cluster_east_11111111 and constellation_cluster_west_22222222"
        in " ".join(result.stderr.split())
    ), result.stderr
