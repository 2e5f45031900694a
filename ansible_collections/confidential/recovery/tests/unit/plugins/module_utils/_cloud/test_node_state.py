# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What a boot log says about the node: waiting for a key, unlocked, or freshly booted, and which line says so;
in every log format (slog with groups, zap, pre-v2.0), with noise and several boots."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import node_state

SLOG_BOOT = '{"time":"t","level":"INFO","msg":"Starting disk-mapper","version":"v2.23.0"}'
SLOG_WAIT = (
    '{"time":"t","level":"INFO","msg":"Preparing existing state disk",'
    '"setupManager":{"uuid":"b27f817c-6799-4c0d-81d8-57abc8386b70"}}'
)
ZAP_WAIT = (
    '{"level":"INFO","ts":"2022-09-08T09:56:43Z","logger":"setupManager","caller":"setup/setup.go:80",'
    '"msg":"Preparing existing state disk","uuid":"b27f817c-6799-4c0d-81d8-57abc8386b70"}'
)
RECOVERED = '{"level":"INFO","msg":"Received state disk key and measurement secret, shutting down server"}'
REJOINED = '{"level":"INFO","msg":"Successfully retrieved rejoin ticket"}'
FRESH = (
    '{"level":"INFO","msg":"Preparing new state disk","setupManager":{"uuid":"b27f817c-6799-4c0d-81d8-57abc8386b70"}}'
)
NOISE = "[    2.171532] systemd[1]: Started Journal Service.\r"


@pytest.mark.parametrize(
    ("lines", "state", "evidence"),
    [
        ([NOISE, SLOG_BOOT, SLOG_WAIT, NOISE], "waiting", "Preparing existing state disk"),
        (
            [ZAP_WAIT, '{"level":"ERROR","msg":"Failed to rejoin on all endpoints"}'],
            "waiting",
            "Preparing existing state disk",
        ),
        ([SLOG_BOOT, SLOG_WAIT, RECOVERED], "unlocked", "Received state disk key"),
        ([SLOG_BOOT, SLOG_WAIT, REJOINED, NOISE], "unlocked", "Successfully retrieved rejoin ticket"),
        (
            [SLOG_BOOT, SLOG_WAIT, "[  OK  ] Finished Prepare encrypted state disk."],
            "unlocked",
            "Finished Prepare encrypted",
        ),
        ([SLOG_BOOT, FRESH], "fresh", "Preparing new state disk"),
        (
            ['{"level":"INFO","logger":"keyService","msg":"Waiting for decryption key. Listening on: [::]:9000"}'],
            "waiting",
            "Waiting for decryption key",
        ),
        # An earlier boot unlocked; the newest boot waits again (it rebooted): the newest boot decides.
        ([SLOG_BOOT, SLOG_WAIT, RECOVERED, SLOG_BOOT, SLOG_WAIT], "waiting", "Preparing existing state disk"),
        ([NOISE, NOISE], "unknown", ""),
    ],
)
def test_the_newest_boot_decides(lines, state, evidence):
    found, line = node_state("\n".join(lines))
    assert found == state and evidence in line
