# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Where the real evidence fixtures live (each folder's README.md says where they come from)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
