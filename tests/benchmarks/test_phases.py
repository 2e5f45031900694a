# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The benchmarks' own arithmetic and entry points: phases that add up to the time to the first key, a run without
marks reported as such, and scripts that start (an import order that cannot find the lab driver once broke
``make benchmark`` without any test noticing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import phases  # noqa: E402

T0 = 1000.0


def marks(first_attestation_end: float = 0.03, first_push_end: float = 0.2) -> list[dict]:
    timeline = [
        [{"stage": "attestation", "start": 0.01, "end": 0.05, "status": "failed"}],
        [
            {"stage": "attestation", "start": 0.01, "end": first_attestation_end, "status": "ok"},
            {"stage": "pushes", "start": 0.1, "end": first_push_end, "status": "ok"},
        ],
    ]
    return [
        {"event": "interpreter_ready", "time": T0 + 0.02},
        {"event": "ansible_imported", "time": T0 + 0.3},
        {"event": "inventory_start", "time": T0 + 0.31},
        {"event": "inventory_end", "time": T0 + 0.5},
        {"event": "playbook_start", "time": T0 + 0.55},
        {"event": "play_start", "name": "preflight", "time": T0 + 0.6},
        {"event": "task_start", "name": "lock", "action": "confidential.recovery.recovery_lock", "time": T0 + 0.7},
        {"event": "play_start", "name": "constellation", "time": T0 + 0.8},
        {"event": "task_start", "name": "check", "action": "ansible.builtin.assert", "time": T0 + 0.9},
        {"event": "task_start", "name": "push", "action": "confidential.recovery.quorum_recover", "time": T0 + 1.2},
        {"event": "runner_start", "name": "push", "action": "confidential.recovery.quorum_recover", "time": T0 + 1.21},
        {"event": "push_module_done", "started_at": T0 + 1.3, "timelines": timeline, "time": T0 + 3.0},
    ]


def test_the_phases_add_up_to_the_first_key():
    split = phases.split(T0, marks())
    assert split["to_first_key"] == pytest.approx(1.5)
    assert sum(split["phases"].values()) == pytest.approx(split["to_first_key"])
    assert split["phases"]["inventory"] == pytest.approx(0.19)
    assert split["phases"]["plays before the push"] == pytest.approx(0.2)
    assert split["phases"]["tasks before the push"] == pytest.approx(0.4)
    assert split["phases"]["first attestation"] == pytest.approx(0.03)  # the first good one, not the failed one
    assert [t["task"] for t in split["tasks_before_push"]] == ["check"]


def test_a_run_that_never_pushed_is_named_not_measured():
    without_push = [m for m in marks() if m["event"] != "push_module_done"]
    with pytest.raises(phases.MarksMissing, match="push_module_done"):
        phases.split(T0, without_push)
    failed = marks()
    failed[-1]["timelines"] = [[{"stage": "attestation", "start": 0, "end": 0.1, "status": "failed"}]]
    with pytest.raises(phases.MarksMissing, match="attestation"):
        phases.split(T0, failed)


def test_medians_skip_runs_without_marks():
    split = phases.split(T0, marks())
    assert phases.medians([None, split, None])["to_first_key"] == split["to_first_key"]
    assert phases.medians([None]) is None


@pytest.mark.parametrize("script", ["time_to_quorum.py", "overhead.py", "module_payload.py", "automatic_recovery.py"])
def test_each_benchmark_starts(script):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "usage" in done.stdout, done.stderr


def test_the_automatic_recovery_summary_takes_medians_and_skips_missing_steps():
    import automatic_recovery

    runs = [{"quorum": 3.0, "all_ready": 9.0}, {"quorum": 5.0, "all_ready": None}, {"quorum": 4.0, "all_ready": 7.0}]
    table = automatic_recovery.summary(runs)
    assert table["quorum"] == {"median": 4.0, "min": 3.0, "max": 5.0}
    assert table["all_ready"] == {"median": 8.0, "min": 7.0, "max": 9.0}
    assert "event_fired" not in table
