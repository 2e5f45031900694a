# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A module run in its action plugin's process: the module's own argument spec, no_log values kept out of the result,
exits that no ``except Exception`` swallows, and only where the module's own process would do the same."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

from module_arguments import MASTER_SECRET, kubeconfig, no_quorum

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _quorum_recover
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._quorum_loop import (
    WAITING,
    ProbeResult,
)
from ansible_collections.confidential.recovery.plugins.plugin_utils._in_process import (
    run_in_process,
    why_not_in_process,
)

SPEC = {
    "argument_spec": {
        "name": {"type": "str", "required": True},
        "token": {"type": "str", "no_log": True},
        "nested": {"type": "dict", "options": {"password": {"type": "str", "no_log": True}}},
    },
    "mutually_exclusive": [("token", "nested")],
}


def test_arguments_are_checked_against_the_modules_spec():
    result = run_in_process(SPEC, lambda module: module.exit_json(changed=False), {"token": "x"}, False)
    assert result["failed"] and "name" in result["msg"]
    result = run_in_process(
        SPEC, lambda module: module.exit_json(), {"name": "a", "token": "a-token", "nested": {}}, False
    )
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_no_log_values_never_reach_the_result():
    def leaky(module):
        module.warn(f"token {module.params['token']}")
        module.fail_json(msg=f"the token {module.params['token']} was refused", echo=module.params)

    result = run_in_process(SPEC, leaky, {"name": "a", "token": "s3cr3t-token"}, False)
    assert "s3cr3t-token" not in repr(result) and result["failed"]
    result = run_in_process(
        SPEC, lambda m: m.exit_json(echo=m.params), {"name": "a", "nested": {"password": "hunter2-pass"}}, False
    )
    assert "hunter2-pass" not in repr(result) and result["echo"]["name"] == "a"


def test_an_exit_is_not_swallowed_by_the_modules_own_error_handling():
    def careful(module):
        try:
            module.fail_json(msg="refused")
        except Exception:  # noqa: BLE001 - what module code does around a network call
            module.exit_json(msg="swallowed")

    assert run_in_process(SPEC, careful, {"name": "a"}, False) == {"failed": True, "msg": "refused"}


def test_check_mode_and_warnings_reach_the_module_and_the_result():
    def report(module):
        module.warn("careful")
        module.exit_json(check_mode=module.check_mode)

    assert run_in_process(SPEC, report, {"name": "a"}, True) == {"check_mode": True, "warnings": ["careful"]}


def action(transport="local", become=False, async_val=0, interpreter=sys.executable, environment=None):
    return SimpleNamespace(
        _connection=SimpleNamespace(transport=transport),
        _compute_environment_string=lambda out: out.update(environment or {}),
        _task=SimpleNamespace(async_val=async_val),
        _play_context=SimpleNamespace(become=become),
        _templar=SimpleNamespace(template=lambda value: value),
    ), {"ansible_python_interpreter": interpreter}


def can_run_in_process(action, task_vars) -> bool:
    return why_not_in_process(action, task_vars) is None


def test_only_where_the_modules_own_process_would_do_the_same():
    assert can_run_in_process(*action())
    assert not can_run_in_process(*action(transport="ssh"))
    assert not can_run_in_process(*action(become=True))
    assert not can_run_in_process(*action(async_val=30))
    assert not can_run_in_process(*action(environment={"K8S_AUTH_KUBECONFIG": "/elsewhere"}))
    assert not can_run_in_process(*action(interpreter="/usr/bin/python3.9"))
    assert not can_run_in_process(*action(interpreter=""))  # interpreter discovery: the module's process decides


def test_quorum_recover_in_process_answers_as_the_module_does(tmp_path, monkeypatch):
    def waiting(wiring, node, timeout):
        return ProbeResult(WAITING, f"{node.address} waits for a key and passed attestation")

    monkeypatch.setattr(_quorum_recover.Wiring, "probe", waiting)
    monkeypatch.setattr(_quorum_recover, "cluster_health", no_quorum)
    args = {
        "nodes": [{"name": f"cp-{i}", "address": f"127.0.0.{i + 2}"} for i in range(3)],
        "attestation": "lab",
        "master_secret": MASTER_SECRET,
        "kubeconfig": kubeconfig(tmp_path),
        "wait_timeout": 5,
    }
    result = run_in_process(_quorum_recover.ARGUMENTS, _quorum_recover.execute, args, True)
    assert not result.get("failed"), result["msg"]
    assert len(result["would_push"]) == 2 and result["keys_pushed"] == 0
    assert any("lab" in warning for warning in result["warnings"])  # the lab variant's warning, as the module gives it
    assert not any(part in repr(result) for part in json.loads(MASTER_SECRET).values())
