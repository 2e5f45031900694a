# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""disk_uuid_lookup's backend, run as the module runs it, without a process per call."""

from __future__ import annotations

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _disk_uuid_lookup


class ModuleExit(Exception):
    def __init__(self, failed: bool, result: dict):
        super().__init__(result.get("msg", ""))
        self.failed = failed
        self.result = result


class _Module:
    def __init__(self, params: dict):
        self.params = {
            "text": None,
            "serial_console": None,
            "cloud_log": None,
            "boot_log": None,
            "cloud_logging": True,
            "timeout": 10.0,
            **params,
        }

    @staticmethod
    def exit_json(**result):
        raise ModuleExit(False, result)

    @staticmethod
    def fail_json(**result):
        raise ModuleExit(True, result)


def lookup(**params) -> ModuleExit:
    """The module's outcome: ``.failed`` and ``.result`` (disk_uuid, source, node_state, evidence or msg)."""
    try:
        _disk_uuid_lookup.run(_Module(params))
    except ModuleExit as outcome:
        return outcome
    raise AssertionError("the backend returned without exit_json or fail_json")
