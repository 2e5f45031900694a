# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The azure provider with the real azure-mgmt clients against the lab's Resource Manager double on loopback: each
CLI generation's cluster, boot diagnostics, and the failure modes (denied, throttled, empty, a VM without an IP,
no credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import azure_clusters
import pytest
import yaml
from inventory_cli import ansible_inventory

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _azure as _discovery_azure
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import (
    find_disk_uuid,
    node_state,
)


def discover(double, uid=azure_clusters.UID):
    compute, network = _discovery_azure.clients(
        _discovery_azure.credential("anonymous", double.url), azure_clusters.SUBSCRIPTION, double.url
    )
    return _discovery_azure.instances(compute, network, azure_clusters.SUBSCRIPTION, azure_clusters.GROUP, uid)


def test_a_current_cluster_is_found_by_its_tags(arm):
    arm.serve(azure_clusters.model(azure_clusters.current() + azure_clusters.current("ffffffff")))
    found = discover(arm)
    assert [i.role for i in found] == ["control-plane"] * 3 + ["worker"] * 2
    first = found[0]
    assert (
        first.name == f"constell-{azure_clusters.UID}-control-plane-5e6f7a8b000000" and first.private_ip == "10.9.0.5"
    )
    assert first.status == "running" and first.node_group == "control_plane_default"
    assert first.boot_log["source"] == "azure-boot-diagnostics" and first.boot_log["instance_id"] == "0"


def test_an_upgraded_cluster_gets_default_node_groups(arm):
    arm.serve(azure_clusters.model(azure_clusters.upgraded()))
    assert [i.node_group for i in discover(arm)] == ["control_plane_default"] * 3 + ["worker_default"]


def test_a_v2_0_cluster_is_found_by_its_uid_tag_and_scale_set_names(arm):
    arm.serve(azure_clusters.model(azure_clusters.v2_0() + azure_clusters.current()))
    assert sorted(i.role for i in discover(arm, uid="a1b2c")) == ["control-plane"] * 3 + ["worker"]


def test_throttling_is_retried(arm):
    arm.serve(azure_clusters.model(azure_clusters.current(), throttle=2))
    assert len(discover(arm)) == 5 and arm.api.throttled == 2


def test_access_denied_names_the_role_needed(arm):
    arm.serve(azure_clusters.model(azure_clusters.current(), deny=True))
    with pytest.raises(
        DiscoveryError, match="Azure denied listing the scale sets of resource group constell-rg.*needs Reader"
    ):
        discover(arm)


def test_an_empty_cluster_says_where_it_looked(arm):
    arm.serve(azure_clusters.model(azure_clusters.current("ffffffff")))
    with pytest.raises(
        DiscoveryError,
        match="no running instance carries constellation-uid=1a2b3c4d in Azure resource group constell-rg",
    ):
        discover(arm)


def test_a_vm_without_an_ip_has_none(arm):
    scale_sets = azure_clusters.current()
    scale_sets[0]["vms"][1]["ip"] = None
    arm.serve(azure_clusters.model(scale_sets))
    assert [i.private_ip for i in discover(arm)][:3] == ["10.9.0.5", None, "10.9.0.7"]


def test_the_serial_console_comes_from_boot_diagnostics(arm):
    waiting = (
        '{"level":"INFO","msg":"Starting disk-mapper"}\n{"level":"INFO","msg":"Preparing existing state disk",'
        '"setupManager":{"uuid":"b27f817c-6799-4c0d-81d8-57abc8386b70"}}\n'
    )
    scale_sets = azure_clusters.current()
    scale_sets[0]["vms"][0]["serial"] = waiting
    arm.serve(azure_clusters.model(scale_sets))
    console = read_console(dict(discover(arm)[0].boot_log, auth_source="anonymous", base_url=arm.url))
    assert find_disk_uuid(console.text)[0] == "b27f817c-6799-4c0d-81d8-57abc8386b70"
    assert node_state(console.text)[0] == "waiting"
    assert (
        "POST",
        f"/subscriptions/{azure_clusters.SUBSCRIPTION}/resourceGroups/{azure_clusters.GROUP}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/constell-{azure_clusters.UID}-control-plane-5e6f7a8b/"
        "virtualMachines/0/retrieveBootDiagnosticsData",
    ) in arm.api.requests


def test_no_credentials_in_the_environment_are_named(monkeypatch):
    for name in ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_CLIENT_SECRET", "AZURE_TENANT", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DiscoveryError, match="auth_source env needs AZURE_CLIENT_ID, AZURE_SECRET"):
        _discovery_azure.credential("env")


def azure_workspace(tmp_path: Path, era: str) -> None:
    if era == "v2.0":
        (tmp_path / "constellation-id.json").write_text(
            json.dumps({"clusterID": "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", "ip": "20.113.45.7"})
        )
        (tmp_path / "constellation-state.json").write_text(
            json.dumps(
                {
                    "name": "constell",
                    "uid": "a1b2c",
                    "cloudprovider": "Azure",
                    "azureresourcegroup": azure_clusters.GROUP,
                    "azuresubscription": azure_clusters.SUBSCRIPTION,
                }
            )
        )
        return
    (tmp_path / "constellation-state.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "v1",
                "infrastructure": {
                    "uid": azure_clusters.UID,
                    "clusterEndpoint": "20.113.45.7",
                    "azure": {"resourceGroup": azure_clusters.GROUP, "subscriptionID": azure_clusters.SUBSCRIPTION},
                },
                "clusterValues": {"clusterID": "ab" * 32, "measurementSalt": "cd" * 32},
            }
        )
    )


@pytest.mark.parametrize(
    ("era", "scale_sets", "worker"),
    [
        ("current", azure_clusters.current(), f"constell-{azure_clusters.UID}-worker-9a8b7c6d000001"),
        ("upgraded", azure_clusters.upgraded(), f"constell-{azure_clusters.UID}-worker000000"),
        ("v2.0", azure_clusters.v2_0(), "constell-worker-000000"),
    ],
)
def test_graph_of_each_cli_generation(arm, tmp_path, era, scale_sets, worker):
    arm.serve(azure_clusters.model(scale_sets + azure_clusters.current("ffffffff")))
    azure_workspace(tmp_path, era)
    source = tmp_path / "azure.constellation.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "plugin": "confidential.recovery.constellation",
                "provider": "azure",
                "auth_source": "anonymous",
                "base_url": arm.url,
            }
        )
    )
    graph = ansible_inventory(source, "--graph")
    assert graph.returncode == 0, graph.stderr
    workers = graph.stdout.split("@constellation_worker:")[1]
    assert worker in workers and "ffffffff" not in graph.stdout
    assert (
        graph.stdout.split("@constellation_control_plane:")[1].split("@constellation_worker:")[0].count("|  |  |--")
        == 3
    )
    listing = ansible_inventory(source, "--list")
    assert listing.returncode == 0, listing.stderr
    hostvars = json.dumps(json.loads(listing.stdout)["_meta"]["hostvars"][worker])
    assert "10.9.0.2" in hostvars and "azure-boot-diagnostics" in hostvars


# -- Application Insights (CLI v2.0 to v2.15) ---------------------------------------------------------------------

ZAP_WAITING_NO_UUID = (
    '{"level":"INFO","ts":"2022-09-08T09:56:43Z","logger":"setupManager","msg":"Preparing existing state disk"}\r\n'
)


def insights_boot_log(double, node, **extra):
    return dict(node.boot_log, auth_source="anonymous", base_url=double.url, logs_endpoint=double.url, **extra)


def test_an_early_node_gets_its_disk_uuid_from_application_insights(arm):
    from lookup_backend import lookup

    scale_sets = azure_clusters.v2_0()
    for vm in scale_sets[0]["vms"]:
        vm["serial"] = ZAP_WAITING_NO_UUID
    node_name = scale_sets[0]["vms"][1]["computer_name"]
    arm.serve(
        azure_clusters.model(
            scale_sets,
            insights={
                "constellation-insights-a1b2c": [
                    {
                        "instance-name": scale_sets[0]["vms"][0]["computer_name"],
                        "message": "Disk UUID: 0c6f2a1e-5d1b-4a7e-9c3f-7b2d8e4a1f60",
                    },
                    {"instance-name": node_name, "message": "bootstrapper started running..."},
                    {"instance-name": node_name, "message": "Disk UUID: 2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"},
                ]
            },
        )
    )
    node = next(i for i in discover(arm, uid="a1b2c") if i.name == node_name)

    outcome = lookup(boot_log=insights_boot_log(arm, node, log_name="constell-a1b2c", uid="a1b2c"))

    assert not outcome.failed, outcome.result
    assert outcome.result["disk_uuid"] == "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"
    assert outcome.result["source"].startswith(
        f"Application Insights constellation-insights-a1b2c (traces of {node_name})"
    )
    assert outcome.result["node_state"] == "waiting"
    # The v2.2+ name is asked first; the v2.0 name answers.
    queried = [path for method, path in arm.api.requests if path.endswith("/query")]
    assert [path.rsplit("/", 2)[1] for path in queried] == ["constell-a1b2c", "constellation-insights-a1b2c"]


def test_a_cluster_without_application_insights_says_which_clis_had_one(arm):
    from lookup_backend import lookup

    scale_sets = azure_clusters.current()
    scale_sets[0]["vms"][0]["serial"] = ZAP_WAITING_NO_UUID
    arm.serve(azure_clusters.model(scale_sets))
    node = discover(arm)[0]

    outcome = lookup(
        boot_log=insights_boot_log(arm, node, log_name=f"constell-{azure_clusters.UID}", uid=azure_clusters.UID)
    )

    assert outcome.failed
    assert (
        f"no Application Insights component constell-{azure_clusters.UID}; no Application Insights component "
        f"constellation-insights-{azure_clusters.UID}: only clusters of CLI v2.0 to v2.15 had one"
    ) in outcome.result["msg"]
