# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Run a module of this collection inside its action plugin, in the controller's own process.

The recovery modules run on the controller (connection local) with the controller's Python. Started the usual way,
each one first pays for AnsiballZ: its payload is zipped, a new interpreter starts, and every file of the payload
is compiled again from the zip. Before the first recovery key that is about half a second. Run in the worker that
Ansible already forked for the task, the same code starts at once (community.crypto runs its ``*_pipe`` modules
in their action plugins the same way).

Only where that changes nothing: connection local, no become, no async, no task ``environment``, and the task's
Python interpreter is the controller's. The arguments go through the module's own argument spec (ansible-core's ArgumentSpecValidator), the
no_log values are removed from the result as AnsibleModule removes them, and the result is the JSON a module would
have printed.
"""

from __future__ import annotations

import json
import os
import sys

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

# AnsibleModule's keyword arguments besides the spec that ArgumentSpecValidator takes too.
CONSTRAINTS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class ModuleExit(BaseException):
    """exit_json or fail_json: a BaseException, as AnsibleModule's SystemExit is, so no ``except Exception`` of the
    module's code can swallow it."""

    def __init__(self, result: dict):
        super().__init__(result.get("msg", ""))
        self.result = result


def _no_log_values(spec: dict, params: dict) -> set[str]:
    """The values of every no_log option (and of its sub-options), as strings, for remove_values."""
    found: set[str] = set()
    for name, option in spec.items():
        value = params.get(name) if isinstance(params, dict) else None
        if value is None:
            continue
        if option.get("no_log"):
            found.update(_leaves(value))
        elif option.get("options"):
            for each in value if isinstance(value, list) else [value]:
                found |= _no_log_values(option["options"], each)
    return {text for text in found if text}


def _leaves(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple, set)):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    return {str(value)}


class ControllerModule:
    """What the collection's backends use of AnsibleModule: params, check_mode, warn, exit_json and fail_json."""

    def __init__(self, arguments: dict, args: dict, check_mode: bool):
        spec = arguments["argument_spec"]
        validator = ArgumentSpecValidator(spec, **{key: arguments[key] for key in CONSTRAINTS if key in arguments})
        validation = validator.validate(dict(args))
        self.params = validation.validated_parameters
        self.check_mode = check_mode
        self.no_log_values = _no_log_values(spec, self.params)
        self.warnings: list[str] = []
        if validation.error_messages:
            self.fail_json(msg=f"{'; '.join(validation.error_messages)}")

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def exit_json(self, **result) -> None:
        raise ModuleExit(self._finished(result))

    def fail_json(self, msg: str, **result) -> None:
        result.pop("exception", None)  # a traceback of the controller's worker says nothing to the user
        raise ModuleExit(self._finished(dict(result, failed=True, msg=msg)))

    def _finished(self, result: dict) -> dict:
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return remove_values(result, self.no_log_values)


def why_not_in_process(action, task_vars: dict) -> str | None:
    """None where running in the controller's process is exactly what the module's process would do, else why not."""
    if action._connection.transport != "local":
        return f"connection {action._connection.transport}"
    if action._task.async_val:
        return "async"
    if action._play_context.become:
        return "become"
    environment: dict = {}
    action._compute_environment_string(environment)  # the task's environment keyword, merged and templated
    if environment:  # variables the module's process would get and this process does not have
        return f"the task sets environment variables ({', '.join(sorted(environment))})"
    interpreter = action._templar.template(task_vars.get("ansible_python_interpreter") or "")
    if not interpreter:
        return "no ansible_python_interpreter (the module's process would discover one)"
    if os.path.realpath(str(interpreter)) != os.path.realpath(sys.executable):
        return f"ansible_python_interpreter {interpreter} is not the controller's {sys.executable}"
    return None


def run_in_process(arguments: dict, execute, args: dict, check_mode: bool) -> dict:
    """The module's result, as the JSON it would have printed."""
    try:
        execute(ControllerModule(arguments, args, check_mode))
    except ModuleExit as done:
        return json.loads(json.dumps(done.result, default=str))
    return {"failed": True, "msg": "the module ended without a result"}
