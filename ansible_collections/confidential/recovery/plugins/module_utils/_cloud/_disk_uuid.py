# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Find a Constellation node's state-disk UUID in its boot output (docs/constellation-protocol.md, Boot log).

Sources, in the order a node prints them: the disk-mapper's ``Preparing existing state disk``
line (slog: ``"setupManager":{"uuid":…}``; zap: a flat ``uuid`` field) and the bootstrapper's
``Disk UUID: <uuid>`` line (serial console or cloud logging). The last one printed wins: after a
re-provisioning, an older UUID may still be in the log.
"""

from __future__ import annotations

import json
import re

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
DISK_UUID_LINE = re.compile(r"Disk UUID: (" + UUID_PATTERN + r")")
PREPARING = "Preparing existing state disk"


class NoDiskUuid(Exception):
    pass


def _uuid_from_json(line: str) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("msg") != PREPARING:
        return None
    candidates = [record.get("uuid")] + [v.get("uuid") for v in record.values() if isinstance(v, dict)]
    for candidate in candidates:
        if isinstance(candidate, str) and re.fullmatch(UUID_PATTERN, candidate):
            return candidate
    return None


def find_disk_uuid(text: str) -> tuple[str, str]:
    """Return (lowercase UUID, the kind of line it came from) or raise NoDiskUuid."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        from_json = _uuid_from_json(line) if line.startswith("{") else None
        if from_json:
            found = (from_json.lower(), PREPARING)
            continue
        match = DISK_UUID_LINE.search(line)
        if match:
            found = (match.group(1).lower(), "Disk UUID")
    if found is None:
        raise NoDiskUuid(
            f"no disk UUID in the boot output: expected a '{PREPARING}' line with a uuid or a 'Disk UUID: <uuid>' line"
        )
    return found


# What the boot log says about the node, newest boot only (the text after the last "Starting disk-mapper").
WAITING, UNLOCKED, FRESH, UNKNOWN = "waiting", "unlocked", "fresh", "unknown"
BOOT_START = "Starting disk-mapper"
UNLOCK_LINES = (
    "Received state disk key and measurement secret",
    "Successfully retrieved rejoin ticket",
    "Finished Prepare encrypted state disk",
)
WAIT_LINES = (PREPARING, "Waiting for decryption key")  # the second: pre-v2.0 key service
FRESH_LINE = "Preparing new state disk"


def node_state(text: str) -> tuple[str, str]:
    """(waiting | unlocked | fresh | unknown, the log line that says so) for the node's newest boot."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if BOOT_START in line]
    boot = lines[starts[-1] :] if starts else lines
    state, evidence = UNKNOWN, ""
    for line in boot:
        if any(marker in line for marker in UNLOCK_LINES):
            state, evidence = UNLOCKED, line
        elif any(marker in line for marker in WAIT_LINES) and state != UNLOCKED:
            state, evidence = WAITING, line
        elif FRESH_LINE in line and state == UNKNOWN:
            state, evidence = FRESH, line
    return state, evidence[:500]
