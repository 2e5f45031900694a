# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""recovery_lock's action plugin: one run holds the lock; a second is refused with the holder's name, a dead holder's
lock is taken over, and only the holder's run ID releases it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.confidential.recovery.plugins.action.recovery_lock import ActionModule


def test_the_first_run_takes_the_lock_and_only_its_run_id_releases_it(action_plugin, tmp_path):
    path = str(tmp_path / ".confidential-recovery.lock")
    taken = action_plugin(ActionModule, {"path": path}).run(task_vars={})
    assert taken["changed"] is False and taken["took_over"] is None and os.path.exists(path)
    assert json.loads(open(path, encoding="utf-8").read())["run_id"] == taken["run_id"]

    wrong = action_plugin(ActionModule, {"path": path, "state": "absent", "run_id": "someone-else"}).run(task_vars={})
    assert wrong["released"] is False and os.path.exists(path)
    released = action_plugin(ActionModule, {"path": path, "state": "absent", "run_id": taken["run_id"]}).run(
        task_vars={}
    )
    assert released["released"] is True and not os.path.exists(path)


def test_a_second_run_is_refused_and_told_who_holds_the_lock(action_plugin, tmp_path):
    path = str(tmp_path / "lock")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = {"run_id": "first-run", "pid": holder.pid, "host": os.uname().nodename, "user": "ops", "started": 1}
        (tmp_path / "lock").write_text(json.dumps(record))
        with pytest.raises(AnsibleActionFail, match="first-run|ops") as refused:
            action_plugin(ActionModule, {"path": path, "wait": 0.5}).run(task_vars={})
        assert str(holder.pid) in str(refused.value)
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_run_that_is_gone_is_taken_over(action_plugin, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record = {"run_id": "dead-run", "pid": gone.pid, "host": os.uname().nodename, "user": "ops", "started": 1}
    (tmp_path / "lock").write_text(json.dumps(record))
    taken = action_plugin(ActionModule, {"path": str(tmp_path / "lock")}).run(task_vars={})
    assert taken["took_over"]["run_id"] == "dead-run" and taken["run_id"] != "dead-run"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": ""}, "path is required"),
        ({"path": "/lock", "state": "locked"}, "state must be present or absent"),
        ({"path": "/lock", "wait": "a while"}, "wait must be a number of seconds"),
    ],
)
def test_bad_arguments_fail_the_task_with_a_message(action_plugin, args, message):
    with pytest.raises(AnsibleActionFail, match=message):
        action_plugin(ActionModule, args).run(task_vars={})


def test_an_unknown_argument_is_refused(action_plugin, tmp_path):
    result = action_plugin(ActionModule, {"path": str(tmp_path / "lock"), "timeout": 3})
    with pytest.raises(AnsibleActionFail, match="timeout"):
        result.run(task_vars={})
