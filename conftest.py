# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""make test's pytest on several workers (tools/run-test-suite.sh): how test files are handed out, and a record of
where each file ran and for how long.

xdist's file scheduler hands a worker its next file while the worker still has two tests to run. For the system
tests, which take up to minutes each, that queues a file behind a busy worker while another worker runs dry at
the end. Here a worker gets its next file only when it is on its last test (xdist must always know a worker's
next test, so not later than that)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest

TIMELINE = Path(__file__).resolve().parent / "build" / "test-logs" / "pytest-files.json"


@pytest.hookimpl(optionalhook=True)  # xdist's hook: the lowest-dependency run has no xdist
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NextFileOnTheLastTest(LoadFileScheduling):
        def _reschedule(self, node) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return NextFileOnTheLastTest(config, log)


class FileTimeline:
    """Per test file: the worker that ran it, when it started and ended (seconds from the session's start)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.files: dict[str, dict] = defaultdict(dict)

    def pytest_runtest_logreport(self, report) -> None:
        node = getattr(report, "node", None)
        entry = self.files[report.nodeid.split("::")[0]]
        entry.setdefault("worker", node.gateway.id if node is not None else "main")
        entry["start"] = min(entry.get("start", report.start), report.start)
        entry["end"] = max(entry.get("end", report.stop), report.stop)

    def pytest_sessionfinish(self) -> None:
        rows = [
            {"file": name, "worker": entry["worker"], "start": round(entry["start"] - self.started, 1),
             "end": round(entry["end"] - self.started, 1), "seconds": round(entry["end"] - entry["start"], 1)}
            for name, entry in self.files.items()
        ]  # fmt: skip
        TIMELINE.parent.mkdir(parents=True, exist_ok=True)
        TIMELINE.write_text(json.dumps(sorted(rows, key=lambda row: row["start"]), indent=1))


def pytest_configure(config):
    if not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(FileTimeline(), "file-timeline")
