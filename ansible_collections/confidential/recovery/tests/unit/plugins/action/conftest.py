# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Build an action plugin as the task executor does, over a connection of the given transport."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task


@pytest.fixture
def action_plugin():
    """``action_plugin(ActionModule, args, transport="local", check_mode=False)``."""

    def build(cls, args: dict, transport: str = "local", check_mode: bool = False):
        task = Task()
        task.args = dict(args)
        task.check_mode = check_mode
        connection = MagicMock()
        connection.transport = transport
        connection._shell.tmpdir = None
        return cls(
            task=task,
            connection=connection,
            play_context=PlayContext(),
            loader=MagicMock(),
            templar=MagicMock(),
            shared_loader_obj=MagicMock(),
        )

    return build
