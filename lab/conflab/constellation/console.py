# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A node's serial console: one JSON log line per event, in the format of the node's version.

slog (v2.16+): time, level, source, msg, attributes under a group.
zap (up to v2.15): level, ts, logger, caller, msg, attributes flat.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from pathlib import Path

SLOG = "slog"
ZAP = "zap"
LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")

# Where upstream logs each group from; shown in the `source`/`caller` fields.
_SOURCES = {
    "setupManager": "disk-mapper/internal/setup/setup.go",
    "recoveryServer": "disk-mapper/internal/recoveryserver/recoveryserver.go",
    "rejoinClient": "disk-mapper/internal/rejoinclient/rejoinclient.go",
    "keyService": "state/keyservice/keyservice.go",
    "grpc": "internal/logger/grpclogger.go",
}
_DEFAULT_SOURCE = "disk-mapper/cmd/main.go"


class Console:
    def __init__(self, path: Path, fmt: str = SLOG):
        if fmt not in (SLOG, ZAP):
            raise ValueError(f"unknown log format {fmt!r}")
        self.path = Path(path)
        self.fmt = fmt
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def log(self, level: str, msg: str, group: str | None = None, **attrs) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        source = _SOURCES.get(group or "", _DEFAULT_SOURCE)
        if self.fmt == SLOG:
            record = {
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": level,
                "source": {"function": "", "file": source, "line": 0},
                "msg": msg,
            }
            if attrs:
                if group:
                    record[group] = attrs
                else:
                    record.update(attrs)
        else:
            record = {"level": level, "ts": round(time.time(), 6), "logger": group or "", "caller": source, "msg": msg}
            record.update(attrs)
        self.raw(json.dumps(record))

    def raw(self, line: str) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line.rstrip("\n") + "\n")
            out.flush()
