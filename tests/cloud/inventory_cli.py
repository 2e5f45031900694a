# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""ansible-inventory with this repository's collection, in a HOME of the test's own (no user's cloud credentials)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def ansible_inventory(source: Path, *args: str, **env) -> subprocess.CompletedProcess:
    home = source.parent / "home"
    home.mkdir(exist_ok=True)
    full_env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOME=str(home / ".ansible"),
        ANSIBLE_INVENTORY_ENABLED="confidential.recovery.constellation",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        HOME=str(home),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        NO_GCE_CHECK="true",
        **env,
    )
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_REGION_NAME"):
        if name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )
