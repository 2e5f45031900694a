# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Run code in a new interpreter that imports the collection from this source tree: for what a process does only
once (its first imports, lowering its own priority), which the test process must not do to itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ABOVE_ANSIBLE_COLLECTIONS = Path(__file__).resolve().parents[6]


def run_fresh(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ABOVE_ANSIBLE_COLLECTIONS))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
