# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The inventory tests build clusters with the same cloud helpers as the backend tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "module_utils"))
