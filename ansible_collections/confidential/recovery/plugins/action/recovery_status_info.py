# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Action plugin of recovery_status_info: prints the wait's progress lines as they happen, and runs the module in the
controller's process where that changes nothing (plugin_utils/_in_process.py). Started as its own process, the module
first spends about a second of CPU on AnsiballZ and a new interpreter, while the nodes it waits for are healing on
the same machine."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _recovery_status_info
from ansible_collections.confidential.recovery.plugins.plugin_utils._live_progress import run_with_live_progress


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(
            run_with_live_progress(
                self,
                "confidential.recovery.recovery_status_info",
                task_vars or {},
                in_process=(_recovery_status_info.ARGUMENTS, _recovery_status_info.execute),
            )
        )
        return result
