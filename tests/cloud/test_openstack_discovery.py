# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The openstack provider with openstacksdk against the lab's Keystone and Nova double on loopback: a current and an
older cluster layout, paging, the failure modes (wrong password, denied, nothing tagged), and a node's disk UUID from
the console output."""

from __future__ import annotations

import json
from pathlib import Path

import openstack_clusters
import pytest
import yaml
from inventory_cli import ansible_inventory

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _openstack as _discovery_openstack
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError

UID = openstack_clusters.UID


def discover(double, tmp_path, password=openstack_clusters.PASSWORD, uid=UID):
    clouds = openstack_clusters.clouds_yaml(tmp_path / "clouds.yaml", f"{double.url}/identity/v3", password=password)
    conn = _discovery_openstack.connect("stackit", clouds, timeout=10)
    return _discovery_openstack.instances(conn, uid, {"cloud": "stackit", "clouds_yaml_path": clouds})


def test_a_current_cluster_is_found_by_its_uid_tag_and_nothing_else(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.current() + openstack_clusters.current("ffffffff")))
    found = discover(openstack, tmp_path)
    assert [i.role for i in found] == ["control-plane"] * 3 + ["worker"] * 2
    assert all(UID in i.name for i in found)
    first = found[0]
    assert first.name == f"constell-{UID}-control-plane-9f8e7d6c-0"
    assert (first.private_ip, first.node_group, first.status) == ("192.168.178.10", "control_plane_default", "ACTIVE")
    assert first.boot_log["source"] == "openstack-console-output" and first.boot_log["cloud"] == "stackit"
    assert first.boot_log["server_id"] == first.cloud["server_id"]
    # Nova filtered by the tag: the other cluster's servers were never sent.
    assert any("servers/detail" in path for _method, path in openstack.api.requests)


def test_an_older_cluster_gets_default_node_groups_and_its_credentials_stay_in_the_cloud(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.older()))
    found = discover(openstack, tmp_path)
    assert [i.role for i in found] == ["control-plane"] * 3 + ["worker"]
    assert {i.node_group for i in found} == {"control_plane_default", "worker_default"}
    everything = json.dumps([vars(i) for i in found])
    assert openstack_clusters.PASSWORD not in everything and openstack_clusters.USER not in everything


def test_the_listing_is_paged(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.current(), page_size=2))
    assert len(discover(openstack, tmp_path)) == 5


def test_a_role_only_in_metadata_is_read_there(openstack, tmp_path):
    servers = openstack_clusters.current()
    for server in servers:
        server["tags"] = [t for t in server["tags"] if not t.startswith("constellation-role-")]
    openstack.serve(openstack_clusters.model(servers))
    assert [i.role for i in discover(openstack, tmp_path)] == ["control-plane"] * 3 + ["worker"] * 2


def test_a_refused_password_says_so(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.current()))
    with pytest.raises(DiscoveryError) as refused:
        discover(openstack, tmp_path, password="not-the-password")
    assert "401" in str(refused.value) or "Unauthorized" in str(refused.value)
    assert "not-the-password" not in str(refused.value)


def test_a_denied_listing_names_what_is_needed(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.current(), deny=True))
    with pytest.raises(DiscoveryError, match="server listing"):
        discover(openstack, tmp_path)


def test_nothing_tagged_says_where_it_looked(openstack, tmp_path):
    openstack.serve(openstack_clusters.model(openstack_clusters.current("ffffffff")))
    with pytest.raises(DiscoveryError, match=f"constellation-uid={UID}.*OpenStack cloud stackit"):
        discover(openstack, tmp_path)


def test_an_unknown_cloud_name_is_refused_before_any_call(openstack, tmp_path):
    clouds = openstack_clusters.clouds_yaml(tmp_path / "clouds.yaml", f"{openstack.url}/identity/v3")
    with pytest.raises(DiscoveryError, match="cannot use the OpenStack cloud elsewhere"):
        _discovery_openstack.connect("elsewhere", clouds)
    assert openstack.api.requests == []


# -- ansible-inventory ------------------------------------------------------------------------------------------


def workspace(tmp_path: Path, double) -> Path:
    (tmp_path / "constellation-state.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "v1",
                "infrastructure": {"uid": UID, "clusterEndpoint": "193.148.160.7", "name": f"constell-{UID}"},
                "clusterValues": {"clusterID": "ab" * 32, "measurementSalt": "cd" * 32},
            }
        )
    )
    openstack_clusters.clouds_yaml(tmp_path / "clouds.yaml", f"{double.url}/identity/v3")
    source = tmp_path / "stackit.constellation.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "plugin": "confidential.recovery.constellation",
                "provider": "openstack",
                "cloud": "stackit",
                "clouds_yaml_path": "clouds.yaml",
            }
        )
    )
    return source


@pytest.mark.parametrize(
    ("layout", "servers", "control_plane", "workers"),
    [
        ("current", openstack_clusters.current(), f"constell-{UID}-control-plane-9f8e7d6c-", 2),
        ("older", openstack_clusters.older(), f"constell-{UID}-control-plane-", 1),
    ],
)
def test_graph_of_each_layout(openstack, tmp_path, layout, servers, control_plane, workers):
    openstack.serve(openstack_clusters.model(servers + openstack_clusters.current("ffffffff")))
    graph = ansible_inventory(workspace(tmp_path, openstack), "--graph")
    assert graph.returncode == 0, graph.stderr
    control_plane_group = graph.stdout.split("@constellation_control_plane:")[1].split("@constellation_worker:")[0]
    worker_group = graph.stdout.split("@constellation_worker:")[1].split("@constellation_cluster_")[0]
    assert control_plane_group.count(control_plane) == 3, graph.stdout
    assert worker_group.count(f"constell-{UID}-worker-") == workers, graph.stdout
    assert "ffffffff" not in graph.stdout
    listing = ansible_inventory(workspace(tmp_path, openstack), "--list")
    assert openstack_clusters.PASSWORD not in listing.stdout
    hostvars = json.loads(listing.stdout)["_meta"]["hostvars"]
    leader = json.dumps(hostvars[f"{control_plane}0"])  # ansible-core 2.19 wraps strings: {"__ansible_unsafe": ...}
    assert (
        '"ansible_host": {"__ansible_unsafe": "192.168.178.10"}' in leader
        or '"ansible_host": "192.168.178.10"' in leader
    )
    assert "openstack-console-output" in leader


# -- the console output -------------------------------------------------------------------------------------------


def test_disk_uuid_lookup_reads_a_node_s_uuid_from_its_console(openstack, tmp_path):
    from lookup_backend import lookup

    servers = openstack_clusters.current()
    openstack.serve(openstack_clusters.model(servers))
    node = discover(openstack, tmp_path)[1]
    outcome = lookup(boot_log=node.boot_log)
    assert not outcome.failed, outcome.result
    assert outcome.result["disk_uuid"] == f"{openstack_clusters.DISK_UUID[:-2]}11"
    assert outcome.result["node_state"] == "waiting"
    assert "OpenStack console output" in outcome.result["source"]


def test_a_console_without_a_uuid_names_where_it_looked(openstack, tmp_path):
    from lookup_backend import lookup

    openstack.serve(openstack_clusters.model(openstack_clusters.current()))
    worker = discover(openstack, tmp_path)[-1]
    outcome = lookup(boot_log=worker.boot_log)
    assert outcome.failed
    assert "OpenStack console output" in outcome.result["msg"]
    assert "never logged disk UUIDs" in outcome.result["msg"]


@pytest.mark.parametrize("listing", ["<html>gateway error</html>", {"servers": 7}, {"servers": [7, "x"]}, [1, 2]])
def test_a_malformed_server_list_is_a_discovery_error(openstack, tmp_path, listing):
    openstack.serve(openstack_clusters.model(openstack_clusters.current(), malformed={"listing": listing}))
    with pytest.raises(DiscoveryError):
        discover(openstack, tmp_path)


@pytest.mark.parametrize("console", ["not json", {"output": 7}, [1]])
def test_a_malformed_console_answer_fails_only_that_lookup(openstack, tmp_path, console):
    from lookup_backend import lookup

    openstack.serve(openstack_clusters.model(openstack_clusters.current()))
    node = discover(openstack, tmp_path)[0]
    openstack.serve(openstack_clusters.model(openstack_clusters.current(), malformed={"console": console}))
    outcome = lookup(boot_log=node.boot_log)
    assert outcome.failed and "console output" in outcome.result["msg"]
