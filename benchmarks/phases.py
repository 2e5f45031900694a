# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Split the time from ``ansible-playbook``'s spawn to the first recovery key into phases, from the marks that
timed_playbook.py and the phase_timeline callback write. Every phase is wall-clock seconds; they add up to the total.

- interpreter: the spawn until Python runs the first line (interpreter start, site packages);
- ansible imports: ansible.cli.playbook and what it pulls in;
- cli setup: options, configuration, the loader, until the inventory is asked;
- inventory: every inventory source parsed (the collection's discovery plugin);
- playbook load: the playbook, its roles and the callbacks, until the first play starts;
- plays before the push: each play before the push's play, whole;
- tasks before the push: the push's play, from its start to the push task's start;
- worker start: the push task's start until its worker reports it running (a fork, the task's arguments);
- module start: until the module's loop begins (the task's templating; run as a separate process, AnsiballZ and
  the module's interpreter and imports too; its input checks: master secret, attestation configuration);
- first attestation: until a node's evidence was judged good;
- first key: until that key was accepted (a round pushes once its Kubernetes API answer is in, and the first answer
  includes importing the client and loading the kubeconfig).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUSH_ACTIONS = ("confidential.recovery.quorum_recover", "quorum_recover")
ORDER = (
    "interpreter",
    "ansible imports",
    "cli setup",
    "inventory",
    "playbook load",
    "plays before the push",
    "tasks before the push",
    "worker start",
    "module start",
    "first attestation",
    "first key",
)


class MarksMissing(Exception):
    """The run left no mark for a phase (it failed, or never reached the push)."""


def timed_command(marks: Path, playbook_args: list[str]) -> list[str]:
    return [sys.executable, str(HERE / "timed_playbook.py"), str(marks), *playbook_args]


def timed_env(env: dict, marks: Path) -> dict:
    env = dict(env)
    enabled = [name for name in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if name]
    env.update(
        PHASE_TIMELINE_FILE=str(marks),
        ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED=",".join([*enabled, "phase_timeline"]),
    )
    return env


@dataclass
class TimedRun:
    rc: int
    output: str
    report: dict | None
    tool_seconds: float
    split: dict | None  # split()'s answer; None when the run left no marks for a phase (see missing)
    missing: str = ""


def timed_run(lab, *args: str, collections: Path | None = None, timeout: float = 600) -> TimedRun:
    """``recover.yml`` against ``lab`` (labdriver's Lab) as Lab.run starts it, through timed_playbook.py."""
    from labdriver import ansible_env

    marks = lab.directory / "phase-marks.jsonl"
    marks.unlink(missing_ok=True)
    command, report_file = lab.command(*args)
    env = ansible_env()
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    spawned, started = time.time(), time.monotonic()
    run = subprocess.run(
        timed_command(marks, command[1:]),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=timed_env(env, marks),
        cwd=lab.directory,
        check=False,
    )
    tool_seconds = round(time.monotonic() - started, 2)
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    try:
        return TimedRun(
            run.returncode, run.stdout + run.stderr, report, tool_seconds, split(spawned, read_marks(marks))
        )
    except (MarksMissing, OSError) as exc:
        return TimedRun(run.returncode, run.stdout + run.stderr, report, tool_seconds, None, str(exc))


def read_marks(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _first(marks: list[dict], event: str, **match) -> dict:
    for mark in marks:
        if mark["event"] == event and all(mark.get(k) == v for k, v in match.items()):
            return mark
    raise MarksMissing(f"no {event} mark{f' for {match}' if match else ''}")


def _first_ok(timelines: list[list[dict]], stage: str) -> float:
    ends = [step["end"] for steps in timelines for step in steps if step["stage"] == stage and step["status"] == "ok"]
    if not ends:
        raise MarksMissing(f"the push module recorded no successful {stage}")
    return min(ends)


def split(spawned: float, marks: list[dict]) -> dict:
    """The phases of one run (``spawned``: wall clock just before the process was started)."""
    push_task = next((m for m in marks if m["event"] == "task_start" and m.get("action") in PUSH_ACTIONS), None)
    if push_task is None:
        raise MarksMissing("the run never started the push task")
    plays = [m for m in marks if m["event"] == "play_start" and m["time"] <= push_task["time"]]
    push_done = _first(marks, "push_module_done")
    loop_t0 = push_done["started_at"]
    boundaries = [
        ("interpreter", _first(marks, "interpreter_ready")["time"]),
        ("ansible imports", _first(marks, "ansible_imported")["time"]),
        ("cli setup", _first(marks, "inventory_start")["time"]),
        ("inventory", _first(marks, "inventory_end")["time"]),
        ("playbook load", plays[0]["time"]),
        ("plays before the push", plays[-1]["time"]),
        ("tasks before the push", push_task["time"]),
        ("worker start", _first(marks, "runner_start", action=push_task["action"])["time"]),
        ("module start", loop_t0),
        ("first attestation", loop_t0 + _first_ok(push_done["timelines"], "attestation")),
        ("first key", loop_t0 + _first_ok(push_done["timelines"], "pushes")),
    ]
    phases, previous = {}, spawned
    for name, moment in boundaries:
        phases[name] = round(moment - previous, 3)
        previous = moment
    tasks = [m for m in marks if m["event"] == "task_start" and plays[-1]["time"] <= m["time"] <= push_task["time"]]
    return {
        "phases": phases,
        "to_first_key": round(previous - spawned, 3),
        "tasks_before_push": [
            {"task": a["name"], "seconds": round(b["time"] - a["time"], 3)}
            for a, b in zip(tasks, tasks[1:], strict=False)
        ],
    }


def medians(splits: list[dict]) -> dict | None:
    """Each phase's median over runs (split()'s answers; None for a run without marks), or None without any."""
    known = [s for s in splits if s]
    if not known:
        return None
    return {
        "phases": {name: round(statistics.median(s["phases"][name] for s in known), 3) for name in ORDER},
        "to_first_key": round(statistics.median(s["to_first_key"] for s in known), 3),
    }


def module_import_seconds(collections: Path, module: str = "quorum_recover", reps: int = 5) -> float:
    """How long a fresh interpreter takes to import the push module, minus an empty interpreter's start (median)."""
    env = dict(os.environ, PYTHONPATH=str(collections))
    statement = f"import ansible_collections.confidential.recovery.plugins.modules.{module}"

    def once(code: str) -> float:
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        return time.monotonic() - started

    return round(statistics.median(once(statement) - once("pass") for _ in range(reps)), 3)
