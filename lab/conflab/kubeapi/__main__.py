# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""``python -m conflab.kubeapi --dir D``"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from .server import serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-kubeapi")
    parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    config = json.loads((args.dir / "lab.json").read_text())
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    serve(config, stopped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
