# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A drill result rendered as JSON, JUnit XML and self-contained HTML, its verdict, and the history it joins."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _drill_report
from ansible_collections.confidential.recovery.plugins.module_utils._drill._html import drill_html
from ansible_collections.confidential.recovery.plugins.module_utils._drill._junit import junit_xml
from ansible_collections.confidential.recovery.plugins.module_utils._drill._result import (
    HISTORY_KEEP,
    DrillResultError,
    checked,
    read_history,
    verdict,
    with_entry,
)


def drill(**changes) -> dict:
    stages = [
        {"stage": "detection", "node": None, "start": 0.0, "end": 2.0},
        {"stage": "attestation", "node": "cp-0", "start": 2.0, "end": 2.4},
        {"stage": "attestation", "node": "cp-1", "start": 2.0, "end": 2.5},
        {"stage": "pushes", "node": "cp-0", "start": 2.4, "end": 2.5},
        {"stage": "pushes", "node": "cp-1", "start": 2.5, "end": 2.6},
        {"stage": "quorum", "node": None, "start": 2.6, "end": 3.8},
        {"stage": "all_ready", "node": None, "start": 3.8, "end": 28.0},
        {"stage": "coordinator", "node": None, "start": 28.0, "end": 28.7},
        {"stage": "workloads", "node": None, "start": 28.7, "end": 31.0},
        {"stage": "verify", "node": None, "start": 31.0, "end": 31.5, "detail": "manifest unchanged"},
    ]
    result = {
        "schema": 1,
        "scenario": {"name": "lose-k-of-n", "parameters": {"k": 2, "n": 3}},
        "target": "lab",
        "started_at": "2026-12-05T03:00:00Z",
        "rto_target_seconds": 60.0,
        "stages": stages,
        "attestation": [{"node": "cp-0", "variant": "qemu-vtpm", "summary": "PCR 4 fa40da13..."}],
    }
    result.update(changes)
    return checked(result)


def test_a_recovered_drill_within_its_target_passes():
    outcome = verdict(drill())
    assert outcome == {
        "passed": True,
        "rto_seconds": 31.5,
        "rto_target_seconds": 60.0,
        "reason": "RTO 31.5 s within the target of 60.0 s",
    }


def test_a_missed_target_fails_and_says_by_how_much():
    outcome = verdict(drill(rto_target_seconds=30))
    assert not outcome["passed"] and outcome["reason"] == "RTO 31.5 s missed the target of 30.0 s"


def test_a_failed_stage_fails_the_drill_and_has_no_rto():
    result = drill()
    result["stages"][3]["status"] = "failed"
    outcome = verdict(result)
    assert not outcome["passed"] and outcome["rto_seconds"] is None
    assert outcome["reason"] == "failed: pushes on cp-0"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"stages": []}, "no stages"),
        ({"stages": ["quorum"]}, r"stages\[0\] must be a mapping, not 'quorum'"),
        (
            {"stages": [{"stage": "coffee", "start": 0, "end": 1}]},
            r"stages\[0\].stage 'coffee' is not one of detection",
        ),
        ({"stages": [{"stage": "quorum", "start": 3, "end": 1}]}, r"stages\[0\] ends \(1.0\) before it starts \(3.0\)"),
        (
            {"stages": [{"stage": "quorum", "start": "soon", "end": 1}]},
            r"stages\[0\].start must be a number of seconds",
        ),
        ({"stages": [{"stage": "quorum", "start": 0, "end": 1, "status": "meh"}]}, r"stages\[0\].status 'meh'"),
        ({"scenario": {}}, "scenario.name is missing"),
        ({"rto_target_seconds": -1}, "rto_target_seconds must be a number"),
    ],
)
def test_a_malformed_result_names_the_field(change, message):
    with pytest.raises(DrillResultError, match=message):
        drill(**change)


def test_junit_has_a_case_per_stage_and_one_for_the_target():
    result = drill(rto_target_seconds=30)
    result["stages"][-1]["status"] = "skipped"
    suites = ElementTree.fromstring(junit_xml(result))
    suite = suites.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases][:3] == ["detection", "attestation [cp-0]", "attestation [cp-1]"]
    assert len(cases) == 11 and suite.get("tests") == "11" and suite.get("skipped") == "1"
    target = cases[-1]
    assert (
        target.get("name") == "rto within 30 s"
        and target.find("failure").get("message") == "RTO 31.5 s missed the target of 30.0 s"
    )
    assert suite.get("failures") == "1" and cases[-2].find("skipped") is not None
    assert float(cases[6].get("time")) == pytest.approx(24.2)


def test_junit_marks_the_failed_stage():
    result = drill()
    result["stages"][5].update(status="failed", detail="no etcd quorum after 300 s")
    suite = ElementTree.fromstring(junit_xml(result)).find("testsuite")
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["quorum", "rto within 60 s"]
    assert failed[0].find("failure").text == "no etcd quorum after 300 s"


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(page)
    return parser.found


def test_the_html_draws_every_stage_and_the_target_and_fetches_nothing():
    page = drill_html(drill(), [])
    found = elements(page)
    bars = [attrs for tag, attrs in found if tag == "rect" and "stage" in attrs.get("class", "")]
    assert len(bars) == 10 and {"stage stage-pushes", "stage stage-verify"} <= {b["class"] for b in bars}
    assert any(tag == "line" and attrs.get("id") == "rto-target" for tag, attrs in found)
    assert ("span", {"id": "verdict", "class": "verdict passed"}) in found
    assert not [tag for tag, _attrs in found if tag in ("script", "link", "img", "iframe")]
    assert set(re.findall(r"https?://[^\"]+", page)) == {"http://www.w3.org/2000/svg"}  # the SVG namespace only


def test_the_html_escapes_what_the_cluster_named():
    result = drill()
    result["stages"][1]["node"] = "<script>alert(1)</script>"
    page = drill_html(result, [])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_trend_shows_each_drill_of_the_history():
    history = []
    for rto in (25.0, None, 40.0):
        result = drill()
        if rto is None:
            result["stages"][5]["status"] = "failed"
        else:
            result["stages"][-1]["end"] = rto
        history = with_entry(history, result)
    found = elements(drill_html(drill(), history))
    points = [attrs for tag, attrs in found if tag == "circle" and attrs.get("class") == "drill"]
    misses = [attrs for tag, attrs in found if tag == "text" and attrs.get("class") == "drill failed"]
    assert len(points) == 2 and len(misses) == 1
    assert any(tag == "svg" and attrs.get("id") == "trend" for tag, attrs in found)


def test_history_keeps_the_newest_entries(tmp_path):
    assert read_history(str(tmp_path / "none.json")) == []
    history = []
    for _drill in range(HISTORY_KEEP + 5):
        history = with_entry(history, drill())
    assert len(history) == HISTORY_KEEP
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(DrillResultError, match="broken.json cannot be read"):
        read_history(str(tmp_path / "broken.json"))


class _Exit(Exception):
    pass


class _Module:
    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = {
            "result": None,
            "recovery_report": None,
            "broke_at": None,
            "scenario": None,
            "target": "lab",
            "started_at": None,
            "rto_target": None,
            "name": "drill-report",
            "history_file": None,
            **params,
        }
        self.result = None

    def exit_json(self, **result):
        self.result = result
        raise _Exit()

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise _Exit()


def run(module):
    with pytest.raises(_Exit):
        _drill_report.run(module)
    return module.result


def test_the_module_writes_the_three_reports_and_the_history(tmp_path):
    history = tmp_path / "history.json"
    for _run in range(2):
        outcome = run(
            _Module(result=drill(), output_dir=str(tmp_path / "out"), history_file=str(history), rto_target=20)
        )
    assert outcome["changed"] and not outcome["passed"] and outcome["history_length"] == 2
    saved = json.loads((tmp_path / "out" / "drill-report.json").read_text())
    assert saved["verdict"]["reason"] == "RTO 31.5 s missed the target of 20.0 s" and saved["rto_target_seconds"] == 20
    assert ElementTree.parse(tmp_path / "out" / "drill-report.junit.xml").getroot().tag == "testsuites"
    assert 'id="trend"' in (tmp_path / "out" / "drill-report.html").read_text()
    assert len(json.loads(history.read_text())) == 2


def test_check_mode_writes_nothing(tmp_path):
    outcome = run(
        _Module(
            check_mode=True,
            result=drill(),
            output_dir=str(tmp_path / "out"),
            history_file=str(tmp_path / "history.json"),
        )
    )
    assert not outcome["changed"] and outcome["passed"]
    assert list(tmp_path.iterdir()) == []


def test_a_bad_result_fails_the_module_with_the_field(tmp_path):
    outcome = run(
        _Module(
            result={"scenario": {"name": "x"}, "stages": [{"stage": "quorum", "start": 2, "end": 1}]},
            output_dir=str(tmp_path),
        )
    )
    assert outcome["failed"] and "stages[0] ends (1.0) before it starts (2.0)" in outcome["msg"]


def test_the_module_reads_the_stages_off_a_recovery_report(tmp_path):
    from recovery_reports import BROKE_AT, recovery_report

    saved = tmp_path / "recovery-report.json"
    saved.write_text(json.dumps(recovery_report()))
    outcome = run(
        _Module(
            recovery_report=str(saved),
            broke_at=BROKE_AT,
            scenario={"name": "full-outage"},
            started_at="2026-12-05T03:00:00Z",
            output_dir=str(tmp_path / "out"),
            rto_target=30,
        )
    )
    assert outcome["rto_seconds"] == 34.9 and outcome["reason"] == "RTO 34.9 s missed the target of 30.0 s"


def test_an_unreadable_recovery_report_is_named(tmp_path):
    outcome = run(
        _Module(
            recovery_report=str(tmp_path / "missing.json"),
            broke_at=0.0,
            scenario={"name": "x"},
            output_dir=str(tmp_path),
        )
    )
    assert (
        outcome["failed"] and "cannot read the recovery report" in outcome["msg"] and "missing.json" in outcome["msg"]
    )
