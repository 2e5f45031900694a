# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A drill's reboot plan authorises the instances it names, reached through the API it was made against, and no other."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._drill import _reboot_plan

NOW = datetime.datetime(2026, 12, 6, 3, 0, tzinfo=datetime.UTC)
GCE = {"source": "gcp-serial-port", "project": "prod", "zone": "europe-west3-a", "instance": "cp-0"}


def target(**api) -> dict:
    return {"name": "cp-0", "role": "control-plane", "locator": dict(GCE, **api)}


def planned(tmp_path, planned_target) -> str:
    path = str(tmp_path / "reboot-plan.json")
    _reboot_plan.write(path, _reboot_plan.new_plan("prod", [planned_target], NOW))
    return path


@pytest.mark.parametrize(
    "made_with, used_with",
    [
        ({"api_endpoint": "http://127.0.0.1:8089"}, {}),  # made against a double, would reboot the real cloud
        ({}, {"api_endpoint": "http://127.0.0.1:8089"}),
        ({"endpoint_url": "http://127.0.0.1:5000"}, {"endpoint_url": "http://127.0.0.1:5001"}),
        ({"profile": "staging"}, {"profile": "production"}),
        ({"base_url": "http://127.0.0.1:8090"}, {}),
    ],
)
def test_a_plan_made_through_another_api_is_refused(tmp_path, made_with, used_with):
    path = planned(tmp_path, target(**made_with))
    with pytest.raises(_reboot_plan.PlanError, match="Nothing was rebooted") as refused:
        _reboot_plan.checked(path, "prod", [target(**used_with)], NOW, 3600)
    assert "cp-0 (" in str(refused.value)


def test_the_same_instances_through_the_same_api_pass(tmp_path):
    path = planned(tmp_path, target(api_endpoint="http://127.0.0.1:8089"))
    plan = _reboot_plan.checked(path, "prod", [target(api_endpoint="http://127.0.0.1:8089")], NOW, 3600)
    assert plan["instances"] == [dict(GCE, name="cp-0", api={"api_endpoint": "http://127.0.0.1:8089"})]


def test_a_plan_of_the_schema_that_did_not_record_the_api_is_refused(tmp_path):
    path = tmp_path / "reboot-plan.json"
    old = _reboot_plan.new_plan("prod", [target()], NOW)
    path.write_text(json.dumps(dict(old, schema=1)))
    with pytest.raises(_reboot_plan.PlanError, match="not a drill plan of schema 2"):
        _reboot_plan.checked(str(path), "prod", [target()], NOW, 3600)
