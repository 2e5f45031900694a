# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Files the collection writes: replaced in one step, through a temporary file nobody could have planted.

The temporary file gets a fresh random name in the target's own directory and is created exclusively (mkstemp:
O_CREAT|O_EXCL, which refuses an existing name and never follows a symlink), so a link left under a predictable name
cannot turn the write into a write elsewhere. A reader sees the old file or the whole new one.
"""

from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, data: bytes | str, mode: int = 0o644) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
