# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Drive the lab twin through its CLI and run the collection's playbooks against it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The installed collection's playbook, run by name as users run it.
RECOVER = "confidential.recovery.recover"


def conflab(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "conflab"), *args], capture_output=True, text=True, timeout=timeout, check=False)


def ansible_env() -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    return env


def _etcd_news(line: str) -> bool:
    return bool(line.strip()) and not any(noise in line for noise in ("rafthttp/", "simple token", "[core] grpc"))


def _last_lines(path: Path, keep, count: int) -> list[str]:
    """The last ``count`` kept lines, a JSON log line cut down to its time, level and message."""
    if not path.exists():
        return []
    kept = []
    for line in path.read_text(errors="replace").splitlines():
        if keep(line):
            try:
                doc = json.loads(line)
                line = f"{doc.get('time') or doc.get('ts')} {doc.get('level')} {doc.get('msg')}"
            except ValueError:
                pass
            kept.append(line[:200])
    return kept[-count:]


@dataclass
class PlaybookRun:
    rc: int
    output: str
    report: dict | None
    seconds: float = 0.0

    def recap_changed(self) -> dict[str, int]:
        return {
            m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", self.output, re.M)
        }


@dataclass
class Lab:
    directory: Path
    prefix: str
    nodes: int

    def up(self, *extra: str) -> None:
        res = conflab(
            "up",
            "--dir",
            str(self.directory),
            "--nodes",
            str(self.nodes),
            "--ip-prefix",
            self.prefix,
            *extra,
            timeout=300,
        )
        assert res.returncode == 0, f"conflab up failed:\n{res.stdout}\n{res.stderr}"

    def down(self) -> None:
        conflab("down", "--dir", str(self.directory), timeout=120)

    def status(self) -> dict:
        res = conflab("status", "--dir", str(self.directory), "--json")
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def diagnostics(self) -> str:
        """One line per node for whoever reads a failed CI log: state, last console line, last etcd complaint."""
        res = conflab("status", "--dir", str(self.directory))
        parts = [f"lab {self.directory} ({self.prefix}.x):", res.stdout.strip() or res.stderr.strip()]
        for node_dir in sorted(self.directory.glob("nodes/*")):
            console = _last_lines(node_dir / "console.log", lambda line: True, 1)
            errors = _last_lines(node_dir / "console.log", lambda line: '"ERROR"' in line, 2)
            etcd = _last_lines(node_dir / "etcd.log", _etcd_news, 2)
            parts.append(f"-- {node_dir.name}: last {console}; errors {errors}; etcd {etcd}")
        return "\n".join(parts)

    def node_states(self) -> dict[str, str]:
        return {n["name"]: n["state"] for n in self.status()["nodes"]}

    def control_plane_states(self) -> dict[str, str]:
        return {n["name"]: n["state"] for n in self.status()["nodes"] if n["role"] == "control-plane"}

    def break_(self, *args: str) -> None:
        res = conflab("break", "--dir", str(self.directory), *args, timeout=300)
        assert res.returncode == 0, f"conflab break failed:\n{res.stdout}\n{res.stderr}"

    def repair(self, *args: str) -> None:
        res = conflab("repair", "--dir", str(self.directory), *args, timeout=300)
        assert res.returncode == 0, f"conflab repair failed:\n{res.stdout}\n{res.stderr}"

    def break_control_plane(self) -> None:
        self.break_("--reboot", "all")
        self.wait_for(
            lambda: set(self.control_plane_states().values()) == {"waiting"}, "all control-plane nodes waiting"
        )

    def wait_for(self, predicate, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.5)
        raise AssertionError(f"lab did not reach: {what} (status: {self.status()})")

    def consoles(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.directory.glob("nodes/*/console.log")))

    def command(
        self,
        *args: str,
        playbook: str | Path = RECOVER,
        check: bool = False,
        verbosity: int = 0,
        report: Path | None = None,
        inventory: Path | None = None,
    ) -> tuple[list[str], Path]:
        report_file = report or self.directory / "recovery-report.json"
        report_file.unlink(missing_ok=True)
        cmd = [
            str(BIN / "ansible-playbook"),
            "-i",
            str(inventory or self.directory / "inventory.constellation.yml"),
            str(playbook),
            "-e",
            f"@{self.directory / 'recover-vars.yml'}",
            "-e",
            f"recovery_report_file={report_file}",
            *args,
        ]
        if check:
            cmd.append("--check")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        return cmd, report_file

    def run(
        self,
        *args: str,
        playbook: str | Path = RECOVER,
        check: bool = False,
        verbosity: int = 0,
        timeout: float = 600,
        report: Path | None = None,
        env: dict | None = None,
        inventory: Path | None = None,
    ) -> PlaybookRun:
        cmd, report_file = self.command(
            *args, playbook=playbook, check=check, verbosity=verbosity, report=report, inventory=inventory
        )
        started = time.monotonic()
        res = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env or ansible_env(),
            cwd=self.directory,
            check=False,
        )
        report_data = json.loads(report_file.read_text()) if report_file.exists() else None
        return PlaybookRun(res.returncode, res.stdout + res.stderr, report_data, round(time.monotonic() - started, 1))

    def start(self, *args: str, report: Path) -> BackgroundRun:
        """A run in its own process group, so that a test can Ctrl-C it like a terminal would."""
        cmd, report_file = self.command(*args, report=report)
        log = report_file.with_suffix(".log")
        handle = log.open("w")
        process = subprocess.Popen(
            cmd, stdout=handle, stderr=subprocess.STDOUT, env=ansible_env(), cwd=self.directory, start_new_session=True
        )
        return BackgroundRun(process, handle, log, report_file, time.monotonic())


@dataclass
class BackgroundRun:
    process: subprocess.Popen
    handle: object
    log: Path
    report_file: Path
    started: float

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 600) -> PlaybookRun:
        try:
            rc = self.process.wait(timeout=timeout)
        finally:
            self.handle.close()
        report = json.loads(self.report_file.read_text()) if self.report_file.exists() else None
        return PlaybookRun(rc, self.log.read_text(), report, round(time.monotonic() - self.started, 1))


def start_lab(tmp_path_factory, name: str, prefix: str, nodes: int, *extra: str) -> Lab:
    """A lab of ``nodes`` control-plane nodes and one worker on ``prefix``.0/24, up and healthy."""
    lab = Lab(tmp_path_factory.mktemp(name), prefix, nodes)
    lab.up("--rejoin-interval", "3", "--workers", "1", *extra)
    return lab


def running_lab(tmp_path_factory, name: str, prefix: str, nodes: int, *extra: str):
    """A module fixture's lab (``yield from running_lab(...)``): started as start_lab starts it, stopped afterwards."""
    lab = start_lab(tmp_path_factory, name, prefix, nodes, *extra)
    try:
        yield lab
    finally:
        lab.down()
