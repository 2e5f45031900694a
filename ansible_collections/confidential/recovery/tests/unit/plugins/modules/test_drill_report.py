# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""drill_report's main(): one source of the drill's outcome, and a check mode that writes no file."""

from __future__ import annotations

import json

from recovery_reports import BROKE_AT, recovery_report

from ansible_collections.confidential.recovery.plugins.modules import drill_report


def saved_report(tmp_path) -> str:
    path = tmp_path / "recovery-report.json"
    path.write_text(json.dumps(recovery_report()))
    return str(path)


def test_a_result_and_a_recovery_report_together_are_refused(run_module, tmp_path):
    result = run_module(
        drill_report,
        {"result": {}, "recovery_report": saved_report(tmp_path), "output_dir": str(tmp_path / "out")},
    )
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_a_recovery_report_needs_the_time_of_the_break(run_module, tmp_path):
    result = run_module(drill_report, {"recovery_report": saved_report(tmp_path), "output_dir": str(tmp_path)})
    assert result["failed"] and "broke_at" in result["msg"] and "scenario" in result["msg"]


def test_check_mode_judges_the_drill_and_writes_nothing(run_module, tmp_path):
    out = tmp_path / "out"
    args = {
        "recovery_report": saved_report(tmp_path),
        "broke_at": BROKE_AT,
        "scenario": {"name": "full-outage"},
        "rto_target": 60,
        "output_dir": str(out),
        "history_file": str(tmp_path / "history.json"),
    }
    result = run_module(drill_report, args, check_mode=True)
    assert result["rc"] == 0 and result["changed"] is False and result["rto_seconds"] == 34.9
    assert not out.exists() and not (tmp_path / "history.json").exists()

    written = run_module(drill_report, args)
    assert written["changed"] is True and sorted(p.name for p in out.iterdir())
