# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Show a long-running module's progress lines while it runs, not only when it returns.

The modules of this collection run on the controller (connection local). Their action plugin
hands them a private file to append progress lines to, runs the module in a thread, and prints
each new line as it appears. With any other connection the module runs as usual and its
``progress`` lines are only in the result.
"""

from __future__ import annotations

import os
import tempfile
import threading

from ansible.utils.display import Display

from . import _in_process

display = Display()
POLL_SECONDS = 1.0


def run_with_live_progress(action, module_name: str, task_vars: dict, in_process=None, warm_up=None) -> dict:
    """The module's result. ``in_process`` (its ARGUMENTS and execute) runs it in this process where that changes
    nothing (_in_process.why_not_in_process); ``warm_up`` is then called first, before the arguments are checked."""
    module_args = dict(action._task.args)
    if action._connection.transport != "local":
        return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
    fd, path = tempfile.mkstemp(prefix="confidential-recovery-progress-")
    os.close(fd)
    module_args["progress_file"] = path
    outcome: dict = {}
    why_not = _in_process.why_not_in_process(action, task_vars) if in_process else "no in-process runner"
    here = why_not is None
    display.vvv(f"{module_name}: {'runs in this process' if here else 'runs as a module: ' + why_not}")
    if here and warm_up:
        warm_up()

    def execute():
        try:
            if here:
                outcome.update(_in_process.run_in_process(*in_process, module_args, bool(action._task.check_mode)))
            else:
                outcome.update(
                    action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
                )
        except Exception as exc:  # noqa: BLE001 - handed to the main thread below
            outcome.update(failed=True, msg=f"{module_name} could not run: {exc}")

    worker = threading.Thread(target=execute, name=f"{module_name}-progress", daemon=True)
    host = task_vars.get("inventory_hostname", "localhost")
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            worker.start()
            while worker.is_alive():
                worker.join(POLL_SECONDS)
                _show(lines, host)
            _show(lines, host)
    finally:
        os.unlink(path)
    return outcome


def _show(lines, host: str) -> None:
    for line in lines.readlines():
        display.display(f"  {host}: {line.rstrip()}")
