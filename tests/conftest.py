# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Make the working tree importable as ``ansible_collections.confidential.recovery``.

Unit tests import the backends from the source tree (not the installed copy), the way
ansible-test does: through a symlink that puts the repository at the collection's path.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_ROOT = REPO / "build" / "pytest-collections"
_LINK = _ROOT / "ansible_collections" / "confidential" / "recovery"

if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.symlink_to(REPO, target_is_directory=True)
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
