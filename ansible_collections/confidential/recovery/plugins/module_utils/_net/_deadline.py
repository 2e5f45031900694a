# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Waits that end on time: one deadline per wait, every try bounded by what is left of it."""

from __future__ import annotations

import time


class Deadline:
    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds = float(seconds)
        self._clock = clock
        self.started = clock()
        self.ends = self.started + self.seconds

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining(self) -> float:
        return max(0.0, self.ends - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self.ends

    def bounded(self, timeout: float, floor: float = 0.5) -> float:
        """``timeout`` cut to what is left, but never below ``floor`` (a zero socket timeout means non-blocking)."""
        return max(floor, min(float(timeout), self.remaining()))

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.remaining())))


class ProgressLog:
    """Timestamped progress lines; a line is kept only when it differs from the last one or ``every`` seconds passed."""

    def __init__(self, deadline: Deadline, every: float = 10.0, sink=None):
        self.deadline = deadline
        self.every = every
        self.sink = sink
        self.lines: list[str] = []
        self._last_text = None
        self._last_at = -every

    def __call__(self, text: str, force: bool = False, key: str | None = None) -> None:
        """``key`` is what must change for the line to count as news (default: the text itself)."""
        now = self.deadline.elapsed()
        key = text if key is None else key
        if not force and key == self._last_text and now - self._last_at < self.every:
            return
        line = f"[{now:7.1f}s] {text}"
        self.lines.append(line)
        self._last_text, self._last_at = key, now
        if self.sink is not None:
            self.sink(line)


def file_sink(path: str | None):
    """A sink that appends each line to ``path`` at once, for the action plugin to show live (None: no sink)."""
    if not path:
        return None

    def append(line: str) -> None:
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError:
            pass  # progress is a courtesy; the result carries every line anyway

    return append
