# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The recovery run lock: one holder, a clear message for the second run, stale locks taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.confidential.recovery.plugins.plugin_utils._run_lock import LockHeld, RunLock


def test_second_run_is_refused_with_the_holder_named(tmp_path):
    lock = RunLock(str(tmp_path / ".lock"))
    mine, stale = lock.acquire(os.getpid(), wait=0)
    assert stale is None
    with pytest.raises(LockHeld) as refused:
        RunLock(str(tmp_path / ".lock")).acquire(os.getpid(), wait=0)
    assert mine["run_id"] in str(refused.value) and f"pid {os.getpid()}" in str(refused.value)


def test_a_dead_holder_is_taken_over(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    lock = RunLock(str(tmp_path / ".lock"))
    old, _stale = lock.acquire(int(dead.stdout), wait=0)
    mine, stale = RunLock(str(tmp_path / ".lock")).acquire(os.getpid(), wait=0)
    assert stale["run_id"] == old["run_id"]
    assert json.loads((tmp_path / ".lock").read_text())["run_id"] == mine["run_id"]


def test_release_only_by_the_holder(tmp_path):
    lock = RunLock(str(tmp_path / ".lock"))
    mine, _stale = lock.acquire(os.getpid(), wait=0)
    assert lock.release("someone-else") is False and (tmp_path / ".lock").exists()
    assert lock.release(mine["run_id"]) is True and not (tmp_path / ".lock").exists()


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(LockHeld, match="does not exist"):
        RunLock(str(tmp_path / "nope" / ".lock")).acquire(os.getpid(), wait=0)
