# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""playbooks/drill.yml with drill_target=cloud on the lab, which is a GCP project: only planned, confirmed instances
are reset through its Compute API double."""

from __future__ import annotations

import pytest
from drillkit import DRILL, cluster_name, drill, resets, stages
from labdriver import running_lab


@pytest.fixture(scope="module")
def drill_lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "drill-cloud", "127.20.19", 3)


def test_a_cloud_drill_reboots_only_the_planned_instances_and_only_when_confirmed(drill_lab):
    """The lab is a GCP project: the cloud target resets instances through its Compute API double."""
    two = (
        "-e",
        "drill_target=cloud",
        "-e",
        '{"drill_parameters": {"nodes": ["conflab-control-plane-1", "conflab-control-plane-2"]}}',
    )
    (drill_lab.directory / "drills" / "reboot-plan.json").unlink(missing_ok=True)

    unplanned = drill_lab.run(
        "-e",
        f"drill_lab_dir={drill_lab.directory}",
        "-e",
        "drill_scenario=lose-k-of-n",
        "-e",
        f"drill_confirm={cluster_name(drill_lab)}",
        *two,
        playbook=DRILL,
    )
    assert unplanned.rc != 0 and "no reviewed plan at" in unplanned.output and resets(drill_lab) == []

    planned = drill_lab.run(
        "-e",
        f"drill_lab_dir={drill_lab.directory}",
        "-e",
        "drill_scenario=lose-k-of-n",
        *two,
        playbook=DRILL,
        check=True,
    )
    assert planned.rc == 0, planned.output[-3000:]
    assert "Planned, nothing rebooted: conflab-control-plane-1, conflab-control-plane-2" in planned.output
    assert resets(drill_lab) == [] and set(drill_lab.control_plane_states().values()) == {"unlocked"}

    unconfirmed = drill_lab.run(
        "-e", f"drill_lab_dir={drill_lab.directory}", "-e", "drill_scenario=lose-k-of-n", *two, playbook=DRILL
    )
    assert unconfirmed.rc != 0 and "set drill_confirm to the cluster's name" in unconfirmed.output
    assert resets(drill_lab) == []

    run, result, _reports = drill(drill_lab, "lose-k-of-n", "-e", f"drill_confirm={cluster_name(drill_lab)}", *two)

    assert run.rc == 0, run.output[-4000:]
    assert sorted(resets(drill_lab)) == ["conflab-control-plane-1", "conflab-control-plane-2"]
    assert result["target"] == "cloud" and result["verdict"]["passed"]
    assert {s["node"] for s in stages(result, "pushes")} <= {"conflab-control-plane-1", "conflab-control-plane-2"}
