# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""playbooks/drill.yml on the lab: each scenario breaks what it names, the real recovery runs, and the drill's
JSON, JUnit and HTML reports say what happened, stage by stage."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from conftest import start_lab
from labdriver import REPO

DRILL = REPO / "ansible_collections" / "confidential" / "recovery" / "playbooks" / "drill.yml"


@pytest.fixture(scope="module")
def drill_lab(tmp_path_factory, collection_installed):
    lab = start_lab(tmp_path_factory, "drill", "127.20.12", 3)
    try:
        yield lab
    finally:
        lab.down()


def drill(lab, scenario: str, *extra: str):
    run = lab.run("-e", f"drill_lab_dir={lab.directory}", "-e", f"drill_scenario={scenario}", *extra, playbook=DRILL)
    reports = lab.directory / "drills"
    result = json.loads((reports / "drill-report.json").read_text()) if (reports / "drill-report.json").exists() else None
    return run, result, reports


def stages(result, name):
    return [s for s in result["stages"] if s["stage"] == name]


@pytest.mark.parametrize("scenario, extra, pushed_nodes, coordinator_recovered", [
    ("full-outage", (), 2, False),
    ("lose-k-of-n", ("-e", '{"drill_parameters": {"k": 2}}'), 2, False),
    ("coordinator-restart", (), 0, True),
    ("both", (), 2, True),
    ("reboot-mid-recovery", ("-e", '{"drill_parameters": {"node": "conflab-control-plane-0"}}'), 2, False),
])
def test_each_scenario_recovers_and_reports_its_stages(drill_lab, scenario, extra, pushed_nodes, coordinator_recovered):
    history_before = drill_lab.directory / "drills" / "history.json"
    drills_before = len(json.loads(history_before.read_text())) if history_before.exists() else 0

    run, result, reports = drill(drill_lab, scenario, *extra)

    assert run.rc == 0, run.output[-4000:]
    assert result["scenario"]["name"] == scenario and result["verdict"]["passed"], result["verdict"]
    assert {s["node"] for s in stages(result, "pushes")} == (
        {f"conflab-control-plane-{i}" for i in range(pushed_nodes)} if pushed_nodes else set())
    assert stages(result, "all_ready") and stages(result, "verify")
    assert run.report["contrast"]["recovered"] is coordinator_recovered
    if scenario == "reboot-mid-recovery":
        # The node took its key, rebooted, waited again and got a second one.
        assert len([s for s in stages(result, "pushes") if s["node"] == "conflab-control-plane-0"]) == 2
    suite = ElementTree.parse(reports / "drill-report.junit.xml").getroot().find("testsuite")
    assert int(suite.get("tests")) == len(result["stages"]) + 1 and suite.get("failures") == "0"
    assert 'id="timeline"' in (reports / "drill-report.html").read_text()
    assert len(json.loads((reports / "history.json").read_text())) == drills_before + 1
    assert f"Drill {scenario}: PASSED" in run.output


def test_a_missed_rto_target_fails_the_drill_after_writing_its_reports(drill_lab):
    run, result, reports = drill(drill_lab, "full-outage", "-e", "drill_rto_target=0.5")

    assert run.rc != 0
    assert not result["verdict"]["passed"] and "missed the target of 0.5 s" in result["verdict"]["reason"]
    assert "Drill full-outage failed: RTO" in run.output
    failure = ElementTree.parse(reports / "drill-report.junit.xml").getroot().find(".//testcase[@name='rto within 0.5 s']/failure")
    assert failure is not None
