# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""instance_reboot's backend with the Compute Engine REST client and the real azure-mgmt clients against the cloud doubles:
check mode plans and touches nothing, the reboot run needs the confirmation and that plan, and only the named
instances are reset."""

from __future__ import annotations

import datetime
import json

import azure_clusters
import gce_clusters
import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._backends._instance_reboot import (
    RebootRefused,
    reboot,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _azure as _discovery_azure,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _gcp as _discovery_gcp,
)

NOW = datetime.datetime(2026, 12, 5, 3, 0, tzinfo=datetime.UTC)
CLUSTER = "constell"


def gce_targets(double) -> list[dict]:
    compute = _discovery_gcp.client(_discovery_gcp.credentials("anonymous", api_endpoint=double.url), double.url)
    found = _discovery_gcp.instances(compute, gce_clusters.PROJECT, gce_clusters.UID)
    return [
        {"name": i.name, "role": i.role, "locator": dict(i.boot_log, auth_kind="anonymous", api_endpoint=double.url)}
        for i in found
    ]


def azure_targets(double) -> list[dict]:
    compute, network = _discovery_azure.clients(
        _discovery_azure.credential("anonymous", double.url), azure_clusters.SUBSCRIPTION, double.url
    )
    found = _discovery_azure.instances(
        compute, network, azure_clusters.SUBSCRIPTION, azure_clusters.GROUP, azure_clusters.UID
    )
    return [
        {"name": i.name, "role": i.role, "locator": dict(i.boot_log, auth_source="anonymous", base_url=double.url)}
        for i in found
    ]


def control_plane(targets):
    return [t for t in targets if t["role"] == "control-plane"]


def run(targets, plan_file, confirm=None, check_mode=False, now=NOW, max_age=3600.0):
    return reboot(targets, CLUSTER, confirm, str(plan_file), max_age, 30.0, check_mode, now)


@pytest.fixture
def gce_cluster(gce):
    gce.serve(gce_clusters.model(gce_clusters.current()))
    return gce


def test_check_mode_writes_the_plan_and_resets_nothing(gce_cluster, tmp_path):
    chosen = control_plane(gce_targets(gce_cluster))[:2]

    outcome = run(chosen, tmp_path / "plan.json", check_mode=True)

    assert gce_cluster.api.resets == [] and outcome["rebooted"] == []
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert [i["instance"] for i in plan["instances"]] == [t["name"] for t in chosen]
    assert plan["cluster"] == CLUSTER and "api_endpoint" not in plan["instances"][0]


def test_the_named_instances_are_reset_and_no_other(gce_cluster, tmp_path):
    everyone = gce_targets(gce_cluster)
    chosen = control_plane(everyone)[:2]
    run(chosen, tmp_path / "plan.json", check_mode=True)

    outcome = run(chosen, tmp_path / "plan.json", confirm=CLUSTER, now=NOW + datetime.timedelta(minutes=5))

    assert sorted(name for _p, _z, name in gce_cluster.api.resets) == sorted(t["name"] for t in chosen)
    assert len(everyone) == 5 and all(o["rebooted"] for o in outcome["rebooted"])
    assert "instances.reset of my-project-123/" in outcome["rebooted"][0]["how"]
    with pytest.raises(RebootRefused, match="was used by the drill"):
        run(chosen, tmp_path / "plan.json", confirm=CLUSTER)
    assert len(gce_cluster.api.resets) == 2


@pytest.mark.parametrize(
    "confirm, message",
    [
        (None, "set drill_confirm to the cluster's name"),
        ("prod", "needs drill_confirm set to the cluster's name, 'constell' \\(got 'prod'\\)"),
    ],
)
def test_nothing_is_reset_without_the_confirmation(gce_cluster, tmp_path, confirm, message):
    chosen = control_plane(gce_targets(gce_cluster))
    run(chosen, tmp_path / "plan.json", check_mode=True)

    with pytest.raises(RebootRefused, match=message):
        run(chosen, tmp_path / "plan.json", confirm=confirm)
    assert gce_cluster.api.resets == []


def test_nothing_is_reset_without_a_plan_or_with_another(gce_cluster, tmp_path):
    targets = control_plane(gce_targets(gce_cluster))
    with pytest.raises(RebootRefused, match="no reviewed plan at .*run the drill in check mode first"):
        run(targets[:1], tmp_path / "plan.json", confirm=CLUSTER)

    run(targets[:1], tmp_path / "plan.json", check_mode=True)
    with pytest.raises(
        RebootRefused, match="the plan .* is for cluster 'constell', instances .*-axz?1z.*; this run would reboot"
    ):
        run(targets[:2], tmp_path / "plan.json", confirm=CLUSTER)
    with pytest.raises(RebootRefused, match="more than the 3600 s it stays valid"):
        run(targets[:1], tmp_path / "plan.json", confirm=CLUSTER, now=NOW + datetime.timedelta(hours=2))
    assert gce_cluster.api.resets == []


def test_workers_are_never_rebooted_not_even_planned(gce_cluster, tmp_path):
    everyone = gce_targets(gce_cluster)

    with pytest.raises(RebootRefused, match="control-plane instances only; not .*-worker-.* \\(worker\\)"):
        run(everyone, tmp_path / "plan.json", check_mode=True)
    assert not (tmp_path / "plan.json").exists() and gce_cluster.api.resets == []


def test_a_denied_reset_names_the_permission_and_fails_that_instance(gce_cluster, tmp_path):
    chosen = control_plane(gce_targets(gce_cluster))[:1]
    run(chosen, tmp_path / "plan.json", check_mode=True)
    gce_cluster.serve(gce_clusters.model(gce_clusters.current(), deny=True))

    outcome = run(chosen, tmp_path / "plan.json", confirm=CLUSTER)

    assert outcome["rebooted"][0]["rebooted"] is False
    assert "compute.instances.reset" in outcome["rebooted"][0]["error"]


def test_azure_restarts_exactly_the_named_scale_set_vm(arm, tmp_path):
    arm.serve(azure_clusters.model(azure_clusters.current()))
    chosen = control_plane(azure_targets(arm))[1:2]
    run(chosen, tmp_path / "plan.json", check_mode=True)
    assert arm.api.restarts == []

    outcome = run(chosen, tmp_path / "plan.json", confirm=CLUSTER)

    scale_set = chosen[0]["locator"]["scale_set"]
    assert arm.api.restarts == [(scale_set, "1")] and outcome["rebooted"][0]["rebooted"]
    assert f"restart of scale-set VM {scale_set}/1" in outcome["rebooted"][0]["how"]
