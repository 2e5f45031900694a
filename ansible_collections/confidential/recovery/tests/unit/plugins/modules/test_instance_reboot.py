# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""instance_reboot's main() on moto's EC2: the argument spec, and a check mode that plans and reboots nothing."""

from __future__ import annotations

import json

import pytest
from aws_cluster import REGION, current_cluster
from module_arguments import refuse
from moto.ec2.models.instances import Instance as MotoInstance

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _aws
from ansible_collections.confidential.recovery.plugins.modules import instance_reboot

UID = "9f3c1a7e"


@pytest.fixture
def control_plane(aws_env):
    current_cluster(UID)
    ec2 = _aws.client(_aws.session(), "ec2", REGION, max_attempts=2)
    return [
        {"name": i.name, "role": i.role, "locator": i.boot_log}
        for i in _aws.instances(ec2, UID, REGION)
        if i.role == "control-plane"
    ]


def test_an_instance_without_its_role_is_refused(run_module, tmp_path):
    result = run_module(
        instance_reboot,
        {"instances": [{"name": "cp-0", "locator": {}}], "cluster_name": "c", "plan_file": str(tmp_path / "p")},
    )
    assert result["failed"] and "role" in result["msg"]


def test_check_mode_writes_the_plan_and_reboots_nothing(run_module, control_plane, tmp_path, monkeypatch):
    monkeypatch.setattr(MotoInstance, "reboot", refuse)
    plan = tmp_path / "reboot-plan.json"
    args = {"instances": control_plane[:2], "cluster_name": "constell", "plan_file": str(plan)}
    result = run_module(instance_reboot, args, check_mode=True)
    assert result["rc"] == 0 and result["rebooted"] == [], result.get("msg")
    written = json.loads(plan.read_text())
    assert written["cluster"] == "constell" and len(written["instances"]) == 2
