# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Action plugin of quorum_recover: prints each round as it happens, and runs the module in the controller's process
where that changes nothing (plugin_utils/_in_process.py): the push loop starts half a second sooner."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _quorum_recover
from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client
from ansible_collections.confidential.recovery.plugins.plugin_utils._live_progress import run_with_live_progress


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(
            run_with_live_progress(
                self,
                "confidential.recovery.quorum_recover",
                task_vars or {},
                in_process=(_quorum_recover.ARGUMENTS, _quorum_recover.execute),
                # The first round's API question needs the client: import it from now on, unless the keys go out
                # before that question (stop_at=all), where the import would only compete with the handshakes.
                warm_up=_client.warm_up
                if _quorum_recover.asks_api_before_keys(self._task.args.get("stop_at"), self._task.check_mode)
                else None,
            )
        )
        return result
