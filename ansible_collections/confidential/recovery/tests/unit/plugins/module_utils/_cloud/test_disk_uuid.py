# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Finding the disk UUID in boot output, in every log format a node has printed."""

from __future__ import annotations

import json

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import (
    NoDiskUuid,
    find_disk_uuid,
)

UUID = "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"


def test_slog_preparing_line_with_grouped_uuid():
    line = json.dumps(
        {"time": "t", "level": "INFO", "msg": "Preparing existing state disk", "setupManager": {"uuid": UUID}}
    )
    assert find_disk_uuid("noise\n" + line) == (UUID, "Preparing existing state disk")


def test_zap_preparing_line_with_flat_uuid_is_lowercased():
    line = json.dumps(
        {"level": "INFO", "logger": "setupManager", "msg": "Preparing existing state disk", "uuid": UUID.upper()}
    )
    assert find_disk_uuid(line)[0] == UUID


def test_bootstrapper_disk_uuid_line():
    assert find_disk_uuid(f"[   12.3] bootstrapper: Disk UUID: {UUID}\n") == (UUID, "Disk UUID")


def test_the_last_uuid_printed_wins():
    older = "00000000-0000-0000-0000-000000000001"
    assert find_disk_uuid(f"Disk UUID: {older}\nDisk UUID: {UUID}\n")[0] == UUID


def test_other_json_lines_do_not_count():
    line = json.dumps({"msg": "Requesting rejoin ticket", "uuid": UUID})
    with pytest.raises(NoDiskUuid):
        find_disk_uuid(line)
