# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Action plugin of recovery_lock: runs on the controller, where the workspace and ansible-playbook live."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.confidential.recovery.plugins.plugin_utils._run_lock import LockHeld, RunLock, describe

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "run_id", "wait"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path = os.path.expanduser(str(args.get("path") or ""))
        state = args.get("state", "present")
        if not path:
            raise AnsibleActionFail("path is required")
        if state not in ("present", "absent"):
            raise AnsibleActionFail(f"state must be present or absent, got {state!r}")
        lock = RunLock(path)
        if state == "absent":
            run_id = str(args.get("run_id") or "")
            released = bool(run_id) and lock.release(run_id)
            result.update(changed=False, released=released, path=path)
            return result
        try:
            wait = float(args.get("wait", 0))
        except (TypeError, ValueError) as exc:
            raise AnsibleActionFail(f"wait must be a number of seconds, got {args.get('wait')!r}") from exc
        # Action plugins run in a worker forked from ansible-playbook: the parent is the run itself.
        try:
            mine, stale = lock.acquire(os.getppid(), wait, progress=display.display)
        except LockHeld as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if stale:
            display.warning(
                f"took over the lock {path} of a run that is gone ({describe(stale)}); "
                "it may have pushed keys: this run looks at the cluster afresh"
            )
        result.update(changed=False, path=path, run_id=mine["run_id"], holder=mine, took_over=stale)
        return result
