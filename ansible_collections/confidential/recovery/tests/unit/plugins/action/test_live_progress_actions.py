# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The action plugins of quorum_recover and recovery_status_info: on the controller the module's progress lines are
shown while it runs; over any other connection the module runs as usual; a module that cannot run fails the task."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import pytest

from ansible_collections.confidential.recovery.plugins.action import quorum_recover, recovery_status_info
from ansible_collections.confidential.recovery.plugins.plugin_utils import _live_progress

ACTIONS = [
    (quorum_recover.ActionModule, "confidential.recovery.quorum_recover"),
    (recovery_status_info.ActionModule, "confidential.recovery.recovery_status_info"),
]


@pytest.fixture
def shown(monkeypatch):
    lines: list[str] = []
    monkeypatch.setattr(_live_progress.display, "display", lines.append)
    monkeypatch.setattr(_live_progress, "POLL_SECONDS", 0.05)
    return lines


@pytest.mark.parametrize(("cls", "name"), ACTIONS)
def test_on_the_controller_each_progress_line_is_shown_while_the_module_runs(action_plugin, shown, cls, name):
    calls = []

    def module(module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        with open(module_args["progress_file"], "a", encoding="utf-8") as sink:
            sink.write("round 1: 2 waiting\n")
            sink.flush()
            deadline = time.monotonic() + 5
            while not shown and time.monotonic() < deadline:  # the line must be shown before the module returns
                time.sleep(0.01)
            sink.write("round 2: quorum\n")
        return {"changed": True, "msg": "done"}

    action = action_plugin(cls, {"nodes": []})
    action._execute_module = module
    result = action.run(task_vars={"inventory_hostname": "cp-0"})

    assert result["msg"] == "done" and result["changed"] is True
    assert shown == ["  cp-0: round 1: 2 waiting", "  cp-0: round 2: quorum"]
    assert calls[0][0] == name and calls[0][1]["nodes"] == []
    assert not os.path.exists(calls[0][1]["progress_file"])


@pytest.mark.parametrize(("cls", "name"), ACTIONS)
def test_over_another_connection_the_module_runs_as_usual(action_plugin, shown, cls, name):
    calls = []
    action = action_plugin(cls, {"check": "cluster"}, transport="ssh")
    action._execute_module = lambda module_name, module_args, task_vars: calls.append(module_args) or {"ok": 1}
    assert action.run(task_vars={})["ok"] == 1
    assert "progress_file" not in calls[0] and shown == []


@pytest.mark.parametrize(("cls", "name"), ACTIONS)
def test_a_module_that_cannot_run_fails_the_task_and_names_itself(action_plugin, shown, cls, name):
    def broken(module_name, module_args, task_vars):
        raise OSError("no interpreter")

    action = action_plugin(cls, {})
    action._execute_module = broken
    result = action.run(task_vars={})
    assert result["failed"] is True and result["msg"] == f"{name} could not run: no interpreter"


def in_process_candidate(action_plugin, cls=quorum_recover.ActionModule, args=None, environment=None):
    action = action_plugin(cls, {"stop_at": "never"} if args is None else args)
    action._templar = SimpleNamespace(template=lambda value: value)
    action._task.environment = environment
    action._execute_module = lambda **_: pytest.fail("the module was started as a separate process")
    return action


def test_quorum_recover_runs_in_the_controllers_process_with_the_modules_argument_spec(action_plugin, shown):
    action = in_process_candidate(action_plugin)
    result = action.run(task_vars={"ansible_python_interpreter": sys.executable})
    assert result["failed"] is True and "nodes" in result["msg"] and "stop_at" in result["msg"], result["msg"]


def test_recovery_status_info_runs_in_the_controllers_process_with_the_modules_argument_spec(action_plugin, shown):
    action = in_process_candidate(action_plugin, recovery_status_info.ActionModule, {"check": "node"})
    result = action.run(task_vars={"ansible_python_interpreter": sys.executable})
    assert result["failed"] is True and "endpoint" in result["msg"] and "attestation" in result["msg"], result["msg"]


@pytest.mark.parametrize(
    ("cls", "args"), [(quorum_recover.ActionModule, None), (recovery_status_info.ActionModule, {})]
)
def test_a_task_environment_sends_the_module_to_its_own_process(action_plugin, shown, cls, args):
    calls = []
    action = in_process_candidate(action_plugin, cls, args, environment=[{"K8S_AUTH_CONTEXT": "elsewhere"}])
    action._execute_module = lambda module_name, module_args, task_vars: calls.append(module_args) or {"ok": 1}
    assert action.run(task_vars={"ansible_python_interpreter": sys.executable})["ok"] == 1 and len(calls) == 1
