# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Start and stop lab processes, each in its own session, tracked by pid files in D/pids."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def pid_file(lab_dir: Path, name: str) -> Path:
    return Path(lab_dir) / "pids" / f"{name}.pid"


def spawn(lab_dir: Path, name: str, module: str, *args: str, log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--dir", str(lab_dir), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    path = pid_file(lab_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(process.pid))
    return process.pid


def read_pid(lab_dir: Path, name: str) -> int | None:
    try:
        return int(pid_file(lab_dir, name).read_text())
    except (OSError, ValueError):
        return None


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def is_running(lab_dir: Path, name: str) -> bool:
    return alive(read_pid(lab_dir, name))


def stop(lab_dir: Path, name: str, grace: float = 5.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds, forget the pid."""
    stop_many(lab_dir, [name], grace)


def _signal_all(pids: list, signum: int) -> None:
    for pid in pids:
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            pass


def _wait_all(pids: list, grace: float) -> list:
    deadline = time.monotonic() + grace
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def stop_many(lab_dir: Path, names: list, grace: float = 5.0) -> None:
    """``stop`` for several processes at the same time, as an outage takes nodes down: all are signalled first,
    then waited for together, so that stopping five nodes takes as long as stopping the slowest."""
    pids = [pid for pid in (read_pid(lab_dir, name) for name in names) if alive(pid)]
    _signal_all(pids, signal.SIGTERM)
    survivors = _wait_all(pids, grace)
    _signal_all(survivors, signal.SIGKILL)
    _wait_all(survivors, grace)
    for name in names:
        pid_file(lab_dir, name).unlink(missing_ok=True)


def running_names(lab_dir: Path) -> list[str]:
    folder = Path(lab_dir) / "pids"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.pid") if alive(read_pid(lab_dir, p.stem)))
