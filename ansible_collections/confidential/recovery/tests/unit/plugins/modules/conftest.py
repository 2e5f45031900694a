# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Run a module's main() as Ansible does: its arguments in, its JSON result out (after no_log masking)."""

from __future__ import annotations

import json

import pytest
from module_arguments import patch_module_args


@pytest.fixture
def run_module(capsys):
    """``run_module(module, args, check_mode=False)``: the result main() printed, with ``rc`` its exit code."""

    def run(module, args: dict, check_mode: bool = False) -> dict:
        arguments = dict(args, _ansible_check_mode=check_mode)
        with patch_module_args(arguments), pytest.raises(SystemExit) as exited:
            module.main()
        printed = capsys.readouterr().out
        result = json.loads(printed)
        result["rc"] = exited.value.code
        result["printed"] = printed
        return result

    return run
