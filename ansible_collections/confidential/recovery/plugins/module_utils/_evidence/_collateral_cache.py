# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The collateral directory: vendor collateral saved beforehand, or kept after an allowed download."""

from __future__ import annotations

import os

from .._files import write_atomically


def read_cached(directory: str, relative: str) -> bytes | None:
    """The file's bytes, or None when it is not there; any other read error propagates (OSError)."""
    try:
        with open(os.path.join(directory, relative), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def keep(directory: str, relative: str, data: bytes) -> str:
    """Save atomically, so a concurrent reader sees the old file or the whole new one; returns the path."""
    target = os.path.join(directory, relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    write_atomically(target, data)
    return target
