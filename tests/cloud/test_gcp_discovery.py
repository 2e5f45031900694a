# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The gcp provider with the Compute Engine REST client (google-auth) against the lab's Compute API double on loopback:
each CLI generation's cluster, paging, and the failure modes (denied, throttled, empty, a node without an IP,
no credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import gce_clusters
import pytest
import yaml
from inventory_cli import ansible_inventory

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _gcp as _discovery_gcp
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError


def discover(double, uid=gce_clusters.UID, retry_seconds=20.0):
    compute = _discovery_gcp.client(_discovery_gcp.credentials("anonymous", api_endpoint=double.url), double.url)
    return _discovery_gcp.instances(compute, gce_clusters.PROJECT, uid, retry_seconds=retry_seconds)


def test_a_current_cluster_across_zones_is_found_by_label(gce):
    gce.serve(gce_clusters.model(gce_clusters.current() + gce_clusters.current("ffffffff"), page_size=2))
    found = discover(gce)
    assert [i.role for i in found] == ["control-plane"] * 3 + ["worker"] * 2
    assert {i.cloud["zone"] for i in found if i.role == "control-plane"} == {
        "europe-west3-a",
        "europe-west3-b",
        "europe-west3-c",
    }
    first = found[0]
    assert (
        first.private_ip == "192.168.178.2"
        and first.node_group == "control_plane_default"
        and first.status == "RUNNING"
    )
    assert first.boot_log == {
        "source": "gcp-serial-port",
        "project": gce_clusters.PROJECT,
        "zone": "europe-west3-a",
        "instance": first.name,
        "instance_id": gce_clusters.current()[0]["id"],
    }
    assert sum("aggregated" in path for path in gce.api.requests) == 3  # 5 match, 2 per page: the pager followed


def test_an_upgraded_cluster_without_node_group_labels_gets_the_defaults(gce):
    gce.serve(gce_clusters.model(gce_clusters.upgraded()))
    found = discover(gce)
    assert [i.node_group for i in found] == ["control_plane_default"] * 3 + ["worker_default"]


def test_a_v2_0_cluster_is_found_by_its_metadata(gce):
    gce.serve(gce_clusters.model(gce_clusters.v2_0() + gce_clusters.current()))
    found = discover(gce, uid="a1b2c")
    assert sorted(i.role for i in found) == ["control-plane"] * 3 + ["worker"]


def test_throttling_is_retried(gce):
    gce.serve(gce_clusters.model(gce_clusters.current(), throttle=2))
    assert len(discover(gce)) == 5
    assert gce.api.throttled == 2


def test_throttling_that_does_not_stop_ends_with_a_message(gce):
    gce.serve(gce_clusters.model(gce_clusters.current(), throttle=1000))
    with pytest.raises(DiscoveryError, match="GCP kept throttling listing the instances of project my-project-123"):
        discover(gce, retry_seconds=2.0)


def test_access_denied_names_the_permission(gce):
    gce.serve(gce_clusters.model(gce_clusters.current(), deny=True))
    with pytest.raises(
        DiscoveryError,
        match="GCP denied listing the instances of project my-project-123: .*needs compute.instances.list",
    ):
        discover(gce)


def test_an_empty_cluster_says_where_it_looked(gce):
    gce.serve(gce_clusters.model(gce_clusters.current("ffffffff")))
    with pytest.raises(
        DiscoveryError, match="no running instance carries constellation-uid=0b7d22e4 in GCP project my-project-123"
    ):
        discover(gce)


def test_a_node_without_an_ip_is_listed_without_one(gce):
    nodes = gce_clusters.current()
    nodes[0]["networkInterfaces"] = []
    gce.serve(gce_clusters.model(nodes))
    assert discover(gce)[0].private_ip is None


def test_anonymous_credentials_only_for_a_double():
    with pytest.raises(DiscoveryError, match="only for a Compute API double"):
        _discovery_gcp.credentials("anonymous")


# -- ansible-inventory ------------------------------------------------------------------------------------------


def workspace(tmp_path: Path, era: str = "current", **inventory) -> Path:
    """The workspace of a cluster made by CLI v2.12+ (state YAML), or by v2.0 (state and id JSON)."""
    if era == "v2.0":
        (tmp_path / "constellation-id.json").write_text(
            json.dumps({"clusterID": "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", "ip": "34.117.20.143"})
        )
        (tmp_path / "constellation-state.json").write_text(
            json.dumps({"name": "constell", "uid": "a1b2c", "cloudprovider": "GCP", "gcpproject": gce_clusters.PROJECT})
        )
    else:
        (tmp_path / "constellation-state.yaml").write_text(
            yaml.safe_dump(
                {
                    "version": "v1",
                    "infrastructure": {
                        "uid": gce_clusters.UID,
                        "clusterEndpoint": "34.117.20.143",
                        "name": f"constell-{gce_clusters.UID}",
                        "gcp": {"projectID": gce_clusters.PROJECT},
                    },
                    "clusterValues": {"clusterID": "ab" * 32, "measurementSalt": "cd" * 32},
                }
            )
        )
    source = tmp_path / "gcp.constellation.yml"
    source.write_text(yaml.safe_dump({"plugin": "confidential.recovery.constellation", "provider": "gcp", **inventory}))
    return source


@pytest.mark.parametrize(
    ("era", "instances", "control_plane"),
    [
        ("current", gce_clusters.current(), f"constell-{gce_clusters.UID}-control-plane-5e6f7a8b-ax1z"),
        ("upgraded", gce_clusters.upgraded(), f"constell-{gce_clusters.UID}-control-plane-x"),
        ("v2.0", gce_clusters.v2_0(), "constell-control-plane-a1b2c-a"),
    ],
)
def test_graph_of_each_cli_generation(gce, tmp_path, era, instances, control_plane):
    gce.serve(gce_clusters.model(instances + gce_clusters.current("ffffffff")))
    source = workspace(tmp_path, "v2.0" if era == "v2.0" else "current", auth_kind="anonymous", api_endpoint=gce.url)
    graph = ansible_inventory(source, "--graph")
    assert graph.returncode == 0, graph.stderr
    control_plane_group = graph.stdout.split("@constellation_control_plane:")[1].split("@constellation_worker:")[0]
    assert control_plane in control_plane_group and control_plane_group.count("|  |  |--") == 3
    assert "ffffffff" not in graph.stdout
    listing = json.loads(ansible_inventory(source, "--list").stdout)
    host = json.dumps(listing["_meta"]["hostvars"][control_plane])
    assert "gcp-serial-port" in host and ("192.168.178." in host or "10.9.0." in host)


def test_a_node_without_an_ip_is_warned_about(gce, tmp_path):
    nodes = gce_clusters.current()
    nodes[0]["networkInterfaces"] = []
    gce.serve(gce_clusters.model(nodes))
    result = ansible_inventory(workspace(tmp_path, auth_kind="anonymous", api_endpoint=gce.url), "--graph")
    assert result.returncode == 0, result.stderr
    assert "has no private IP yet" in " ".join(result.stderr.split())


def test_no_credentials_says_how_to_get_them(gce, tmp_path):
    gce.serve(gce_clusters.model(gce_clusters.current()))
    result = ansible_inventory(workspace(tmp_path, api_endpoint=gce.url), "--graph")
    assert result.returncode != 0
    assert "no GCP credentials: run `gcloud auth application-default login`" in " ".join(result.stderr.split())


# -- the serial console -------------------------------------------------------------------------------------------

SLOG_WAITING = (
    '{"time":"2025-05-02T08:14:10.1Z","level":"INFO","msg":"Starting disk-mapper","version":"v2.23.0"}\n'
    '{"time":"2025-05-02T08:14:11.2Z","level":"INFO","msg":"Preparing existing state disk",'
    '"setupManager":{"uuid":"b27f817c-6799-4c0d-81d8-57abc8386b70"}}\n'
    '{"time":"2025-05-02T08:14:11.3Z","level":"INFO","msg":"Starting RecoveryServer"}\n'
    '{"time":"2025-05-02T08:14:41.9Z","level":"WARN","msg":"Failed to rejoin on endpoint",'
    '"rejoinClient":{"error":"rpc error: code = Unavailable","endpoint":"10.9.0.6:30090"}}\n'
)


def boot_log(double, name, **extra):
    return {
        "source": "gcp-serial-port",
        "project": gce_clusters.PROJECT,
        "zone": "europe-west3-b",
        "instance": name,
        "auth_kind": "anonymous",
        "api_endpoint": double.url,
        **extra,
    }


def test_the_serial_console_is_read_through_the_api_and_paged(gce):
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import (
        find_disk_uuid,
        node_state,
    )

    noise = "".join(f"[  {i}.000000] kernel: noise line {i}\r\n" for i in range(200))
    gce.serve(gce_clusters.model([gce_clusters.instance("n", "10.0.0.2", serial=noise + SLOG_WAITING)]))
    console = read_console(boot_log(gce, "n"))
    assert console.text.endswith(SLOG_WAITING) and not console.truncated
    assert find_disk_uuid(console.text)[0] == "b27f817c-6799-4c0d-81d8-57abc8386b70"
    state, line = node_state(console.text)
    assert state == "waiting" and "Preparing existing state disk" in line


def test_a_console_past_its_window_is_marked_truncated(gce):
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console

    rejoin_noise = '{"level":"ERROR","msg":"Failed to rejoin on all endpoints"}\n' * 400
    gce.serve(
        gce_clusters.model(
            [gce_clusters.instance("n", "10.0.0.2", serial=SLOG_WAITING + rejoin_noise)], serial_window=4096
        )
    )
    console = read_console(boot_log(gce, "n"))
    assert console.truncated and "Preparing existing state disk" not in console.text


def test_reading_an_unknown_instance_names_it(gce):
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console

    gce.serve(gce_clusters.model(gce_clusters.current()))
    with pytest.raises(DiscoveryError, match="reading the serial console of my-project-123/europe-west3-b/gone"):
        read_console(boot_log(gce, "gone"))


# -- cloud logging (CLI v2.0 to v2.15) ---------------------------------------------------------------------------

ZAP_V2_0_WAITING = (
    '{"level":"INFO","ts":"2022-09-08T09:56:43Z","logger":"setupManager","caller":"setup/setup.go:80",'
    '"msg":"Preparing existing state disk"}\r\n'
    '{"level":"INFO","ts":"2022-09-08T09:56:43Z","logger":"recoveryServer","msg":"Starting RecoveryServer"}\r\n'
)


def test_a_v2_0_node_gets_its_disk_uuid_from_cloud_logging(gce):
    from lookup_backend import lookup

    nodes = gce_clusters.v2_0()
    for raw in nodes:
        raw["_serial"] = ZAP_V2_0_WAITING
    gce.serve(
        gce_clusters.model(
            nodes,
            log_entries=[
                gce_clusters.disk_uuid_entry(nodes[0], "0c6f2a1e-5d1b-4a7e-9c3f-7b2d8e4a1f60", "2026-11-01T08:00:00Z"),
                gce_clusters.disk_uuid_entry(nodes[0], "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e", "2026-11-20T08:00:00Z"),
                gce_clusters.disk_uuid_entry(nodes[1], "b27f817c-6799-4c0d-81d8-57abc8386b70"),
            ],
        )
    )
    node = next(i for i in discover(gce, uid="a1b2c") if i.name == nodes[0]["name"])

    outcome = lookup(
        boot_log=dict(node.boot_log, auth_kind="anonymous", api_endpoint=gce.url, logging_endpoint=gce.url)
    )

    assert not outcome.failed, outcome.result
    assert outcome.result["disk_uuid"] == "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"  # the newest entry of this node
    assert "constellation-boot-log" in outcome.result["source"]
    assert outcome.result["node_state"] == "waiting" and "Preparing existing state disk" in outcome.result["evidence"]


def test_a_console_with_the_uuid_needs_no_cloud_logging(gce):
    from lookup_backend import lookup

    gce.serve(gce_clusters.model([gce_clusters.instance("n", "10.0.0.2", serial=SLOG_WAITING)], deny_logging=True))

    outcome = lookup(boot_log=dict(boot_log(gce, "n"), logging_endpoint=gce.url))

    assert outcome.result["disk_uuid"] == "b27f817c-6799-4c0d-81d8-57abc8386b70"
    assert "/v2/entries:list" not in gce.api.requests


def test_no_uuid_anywhere_names_each_place_looked(gce):
    from lookup_backend import lookup

    nodes = gce_clusters.v2_0()
    nodes[0]["_serial"] = ZAP_V2_0_WAITING
    gce.serve(gce_clusters.model(nodes))

    outcome = lookup(
        boot_log=dict(boot_log(gce, nodes[0]["name"]), instance_id=nodes[0]["id"], logging_endpoint=gce.url)
    )

    assert outcome.failed
    assert f"GCP serial port 1 of {gce_clusters.PROJECT}/europe-west3-b/{nodes[0]['name']}" in outcome.result["msg"]
    assert "no Disk UUID entry in the last 30 days (only CLI v2.0 to v2.15 wrote one)" in outcome.result["msg"]


def test_cloud_logging_denied_names_the_permission(gce):
    from lookup_backend import lookup

    nodes = gce_clusters.v2_0()
    nodes[0]["_serial"] = ZAP_V2_0_WAITING
    gce.serve(gce_clusters.model(nodes, deny_logging=True))

    outcome = lookup(
        boot_log=dict(boot_log(gce, nodes[0]["name"]), instance_id=nodes[0]["id"], logging_endpoint=gce.url)
    )

    assert outcome.failed and "logging.logEntries.list" in outcome.result["msg"], outcome.result
