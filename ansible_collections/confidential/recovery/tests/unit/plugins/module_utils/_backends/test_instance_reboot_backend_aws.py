# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""instance_reboot's backend on moto's EC2: only the planned, confirmed control-plane instances get RebootInstances."""

from __future__ import annotations

import datetime

import pytest
from aws_cluster import REGION, current_cluster
from moto.ec2.models.instances import Instance as MotoInstance

from ansible_collections.confidential.recovery.plugins.module_utils._backends._instance_reboot import (
    RebootRefused,
    reboot,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _aws as _discovery_aws

NOW = datetime.datetime(2026, 12, 5, 3, 0, tzinfo=datetime.UTC)
UID = "9f3c1a7e"


@pytest.fixture
def rebooted(aws_env, monkeypatch):
    """The IDs of the instances moto's EC2 rebooted, in order."""
    seen: list[str] = []
    original = MotoInstance.reboot

    def recording(instance, *args, **kwargs):
        seen.append(instance.id)
        return original(instance, *args, **kwargs)

    monkeypatch.setattr(MotoInstance, "reboot", recording)
    return seen


def cluster_targets() -> list[dict]:
    current_cluster(UID)
    ec2 = _discovery_aws.client(_discovery_aws.session(), "ec2", REGION, max_attempts=2)
    return [{"name": i.name, "role": i.role, "locator": i.boot_log} for i in _discovery_aws.instances(ec2, UID, REGION)]


def test_only_the_named_control_plane_instances_are_rebooted(rebooted, tmp_path):
    targets = cluster_targets()
    chosen = [t for t in targets if t["role"] == "control-plane"][:2]
    plan = str(tmp_path / "plan.json")

    reboot(chosen, "constell", None, plan, 3600, 30, True, NOW)
    assert rebooted == []
    outcome = reboot(chosen, "constell", "constell", plan, 3600, 30, False, NOW)

    assert sorted(rebooted) == sorted(t["locator"]["instance_id"] for t in chosen) and len(targets) == 5
    assert [o["how"] for o in outcome["rebooted"]] == [
        f"EC2 RebootInstances of {t['locator']['instance_id']} in {REGION}" for t in chosen
    ]


def test_without_the_confirmation_nothing_is_rebooted(rebooted, tmp_path):
    chosen = [t for t in cluster_targets() if t["role"] == "control-plane"]
    plan = str(tmp_path / "plan.json")
    reboot(chosen, "constell", None, plan, 3600, 30, True, NOW)

    with pytest.raises(RebootRefused, match="set drill_confirm to the cluster's name"):
        reboot(chosen, "constell", "", plan, 3600, 30, False, NOW)
    assert rebooted == []


def test_an_instance_of_the_lab_provider_has_no_cloud_to_ask(tmp_path):
    target = {"name": "conflab-control-plane-0", "role": "control-plane", "locator": {}}
    with pytest.raises(RebootRefused, match="no cloud API is known for conflab-control-plane-0"):
        reboot([target], "constell", None, str(tmp_path / "plan.json"), 3600, 30, True, NOW)
