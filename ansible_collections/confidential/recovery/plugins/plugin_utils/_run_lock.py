# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""One recovery run per cluster at a time: a lock file in the workspace that names its holder.

The holder is the ``ansible-playbook`` process. A lock whose holder died on this host (Ctrl-C,
a killed AWX job) is stale and is taken over, with a warning; a live holder, or one on another
host whose liveness we cannot see, makes the new run wait or stop with a message naming it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid


class LockHeld(Exception):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def describe(holder: dict) -> str:
    return (
        f"run {holder.get('run_id', '?')} of {holder.get('user', '?')}, pid {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, since {holder.get('started_at', '?')}"
    )


class RunLock:
    def __init__(self, path: str):
        self.path = path

    def read(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                holder = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"run_id": "unreadable"}
        return holder if isinstance(holder, dict) else {"run_id": "unreadable"}

    def is_stale(self, holder: dict) -> bool:
        return (
            holder.get("host") == socket.gethostname()
            and isinstance(holder.get("pid"), int)
            and not _alive(holder["pid"])
        )

    def _create(self, holder: dict) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(holder, handle)
        return True

    def _remove_stale(self, stale: dict) -> bool:
        """Move the stale file aside atomically. If another run took it over in between, put its lock back."""
        aside = f"{self.path}.stale-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        moved = RunLock(aside).read()
        if moved != stale:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            os.unlink(aside)
            return False
        os.unlink(aside)
        return True

    def acquire(self, pid: int, wait: float, poll: float = 1.0, progress=None) -> tuple[dict, dict | None]:
        """Returns (our holder record, the stale holder we took over or None); raises LockHeld."""
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise LockHeld(f"cannot lock {self.path}: directory {directory} does not exist")
        mine = {
            "run_id": uuid.uuid4().hex[:12],
            "pid": pid,
            "host": socket.gethostname(),
            "user": os.environ.get("USER") or str(os.getuid()),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        ends = time.monotonic() + max(0.0, wait)
        taken_over = None
        while True:
            if self._create(mine):
                return mine, taken_over
            holder = self.read()
            if holder is None:
                continue
            if self.is_stale(holder):
                if self._remove_stale(holder):
                    taken_over = holder
                continue
            if time.monotonic() >= ends:
                raise LockHeld(
                    f"another recovery run holds {self.path} ({describe(holder)}). It may be pushing keys right now: "
                    "wait for it to finish. If that run is gone (for example on another host), remove the file and rerun."
                )
            if progress:
                progress(f"waiting for {describe(holder)} to release {self.path}")
            time.sleep(min(poll, max(0.0, ends - time.monotonic())))

    def release(self, run_id: str) -> bool:
        holder = self.read()
        if not holder or holder.get("run_id") != run_id:
            return False
        os.unlink(self.path)
        return True
