# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""disk_uuid_lookup's main(): one boot-output source is required, and check mode reads as a normal run does."""

from __future__ import annotations

from ansible_collections.confidential.recovery.plugins.modules import disk_uuid_lookup

UUID = "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"
WAITING = '{"level":"INFO","msg":"Preparing existing state disk","setupManager":{"uuid":"' + UUID.upper() + '"}}'


def test_without_boot_output_nothing_is_guessed(run_module):
    result = run_module(disk_uuid_lookup, {"timeout": 5})
    assert (
        result["failed"] and "one of the following is required" in result["msg"] and "serial_console" in result["msg"]
    )


def test_a_timeout_that_is_not_a_number_is_refused(run_module):
    result = run_module(disk_uuid_lookup, {"text": WAITING, "timeout": "soon"})
    assert result["failed"] and "timeout" in result["msg"]


def test_check_mode_finds_the_uuid_and_changes_nothing(run_module):
    result = run_module(disk_uuid_lookup, {"text": "noise\n" + WAITING}, check_mode=True)
    assert result["rc"] == 0 and result["changed"] is False
    assert result["disk_uuid"] == UUID and result["node_state"] == "waiting"
