# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A benchmark's callback (not part of the collection): appends the moment of every play, task and task start on a
host to the file in PHASE_TIMELINE_FILE, and the push module's own clock (its loop's start and each node's
attestations and pushes), so that benchmarks/phases.py can split the time before the first key."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

PUSH_MODULES = ("confidential.recovery.quorum_recover", "quorum_recover")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "phase_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("PHASE_TIMELINE_FILE")

    def _mark(self, event: str, **fields) -> None:
        if self._path:
            with open(self._path, "a", encoding="utf-8") as out:
                out.write(json.dumps({"event": event, "time": time.time(), **fields}) + "\n")

    def v2_playbook_on_start(self, playbook):
        self._mark("playbook_start")

    def v2_playbook_on_play_start(self, play):
        self._mark("play_start", name=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._mark("task_start", name=task.get_name(), action=task.action)

    def v2_runner_on_start(self, host, task):
        self._mark("runner_start", host=host.get_name(), name=task.get_name(), action=task.action)

    def v2_runner_on_ok(self, result):
        if result._task.action in PUSH_MODULES:  # pylint: disable=protected-access
            answer = result._result  # pylint: disable=protected-access
            self._mark(
                "push_module_done",
                host=result._host.get_name(),  # pylint: disable=protected-access
                started_at=answer.get("started_at"),
                timelines=[node.get("timeline") or [] for node in answer.get("nodes") or []],
            )

    def v2_playbook_on_stats(self, stats):
        self._mark("playbook_end")
