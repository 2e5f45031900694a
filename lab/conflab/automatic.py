# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Recovery without a human, against the lab: ansible-rulebook runs the collection's rulebook
(confidential.recovery.auto_recover) on the lab's event inventory, the lab breaks, and nobody does anything.

The timeline comes from three witnesses: this process's clock for the break and for the lab's own state (polled
every 0.1 s), and the rulebook's ledger for when the event was seen and when the playbook started.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

RULEBOOK = "confidential.recovery.auto_recover"
WATCHING = "confidential.recovery.cluster_watch - INFO - watching"


@dataclass
class Rulebook:
    """A running ansible-rulebook in its own process group, its log and its ledger of automatic runs."""

    directory: Path
    interval: float = 2.0
    cooldown: float = 300.0
    rehearsal_only: bool = False
    extra: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.directory / "eda-rulebook.log"

    @property
    def ledger_file(self) -> Path:
        return self.directory / "eda-ledger.json"

    def start(self, env: dict | None = None) -> Rulebook:
        variables = {
            "cluster_inventory": str(self.directory / "eda-inventory"),
            "watch_interval": self.interval,
            "auto_recover_ledger_file": str(self.ledger_file),
            "auto_recover_cooldown": self.cooldown,
            "auto_recover_rehearsal_only": self.rehearsal_only,
            **self.extra,
        }
        vars_file = self.directory / "eda-rulebook-vars.yml"
        vars_file.write_text(yaml.safe_dump(variables, sort_keys=False))
        program = Path(sys.executable).parent / "ansible-rulebook"
        command = [str(program), "-r", RULEBOOK, "-i", variables["cluster_inventory"], "-e", str(vars_file), "-v"]
        environment = dict(env or os.environ, EDA_SHUTDOWN_DELAY="1", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        # ansible-rulebook finds collections through ansible-galaxy and runs ansible-playbook: the ones beside it.
        environment["PATH"] = f"{program.parent}{os.pathsep}{environment.get('PATH', '')}"
        with self.log.open("w") as handle:
            self.process = subprocess.Popen(
                command,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=self.directory,
                start_new_session=True,
            )
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def ledger(self) -> list:
        try:
            entries = json.loads(self.ledger_file.read_text())
        except (OSError, ValueError):
            return []
        return entries if isinstance(entries, list) else []

    def wait_until(self, predicate, what: str, timeout: float, poll: float = 0.1) -> float:
        """Wall-clock time at which ``predicate()`` first held; AssertionError with the log's tail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return time.time()
            if self.process and self.process.poll() is not None:
                break
            time.sleep(poll)
        tail = "\n".join(self.text().splitlines()[-40:])
        raise AssertionError(f"{what}: not within {timeout:g} s (rulebook rc {self.returncode()}):\n{tail}")

    def wait_watching(self, timeout: float = 90) -> None:
        self.wait_until(lambda: WATCHING in self.text(), "the rulebook's watch started", timeout, poll=0.2)

    def returncode(self):
        return self.process.poll() if self.process else None

    def stop(self, timeout: float = 30) -> int | None:
        if not self.process or self.process.poll() is not None:
            return self.returncode()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout=timeout)


def all_ready(status: dict) -> bool:
    from .cli import READY_STATES

    nodes_ready = all(node["state"] == READY_STATES.get(node["role"]) for node in status["nodes"])
    coordinator = status.get("coordinator") or {}
    return bool(status.get("quorum")) and nodes_ready and coordinator.get("state", "ready") == "ready"


def timeline(rulebook: Rulebook, broke_at: float, status, timeout: float) -> dict:
    """Seconds from the break: event seen, playbook started, quorum, all Ready with the Coordinator ready, run done."""
    quorum_at = rulebook.wait_until(lambda: status().get("quorum"), "etcd quorum back", timeout, poll=0.1)
    ready_at = rulebook.wait_until(lambda: all_ready(status()), "all Ready and the Coordinator ready", timeout)
    done = rulebook.wait_until(
        lambda: any("finished_at" in e and e.get("started_at", 0) >= broke_at for e in rulebook.ledger()),
        "the automatic run recorded its end",
        timeout,
    )
    run = next(e for e in rulebook.ledger() if "finished_at" in e and e.get("started_at", 0) >= broke_at)

    def since(moment):
        return round(moment - broke_at, 2) if isinstance(moment, (int, float)) else None

    return {
        "outage_began": 0.0,
        "event_fired": since(run.get("observed_at")),
        "playbook_started": since(run.get("started_at")),
        "quorum": since(quorum_at),
        "all_ready": since(ready_at),
        "run_finished": since(run.get("finished_at")),
        "recorded_at": since(done),
        "outcome": run.get("outcome"),
        "event": run.get("event"),
    }


def render_report(directory: Path, broke_at: float, event_at, interval: float, env: dict | None = None) -> Path:
    """The drill's HTML timeline (and JSON, JUnit), drawn by the collection's drill_report module from the report the
    automatic run's recover.yml wrote, with detection split at the event."""
    output = directory / "drills"
    arguments = {
        "recovery_report": str(directory / "eda-recovery-report.json"),
        "broke_at": broke_at,
        "scenario": {"name": "automatic-full-outage", "parameters": {"watch_interval": interval}},
        "output_dir": str(output),
        "name": "automatic-drill-report",
        "started_at": datetime.datetime.fromtimestamp(broke_at, datetime.UTC).isoformat(timespec="seconds"),
    }
    if isinstance(event_at, (int, float)):
        arguments["event_at"] = event_at
    command = [
        str(Path(sys.executable).parent / "ansible"),
        "localhost",
        "-c",
        "local",
        "-i",
        "localhost,",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        "confidential.recovery.drill_report",
        "-a",
        json.dumps(arguments),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    html = output / "automatic-drill-report.html"
    if done.returncode != 0 or not html.exists():
        raise AssertionError(f"drill_report failed (rc {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return html
