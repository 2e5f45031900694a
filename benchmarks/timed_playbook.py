#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""``ansible-playbook``, with marks for the phases no callback sees: the interpreter's start, Ansible's imports and
the inventory's parsing. Everything else is ansible-playbook's own code path, unchanged.

  timed_playbook.py MARKS_FILE ansible-playbook-arguments...

Each mark is one JSON line ``{"event": ..., "time": <seconds since the epoch>}`` appended to MARKS_FILE; the
phase_timeline callback appends the plays, tasks and the push module's result to the same file.
"""

import time

STARTED = time.time()

import json  # noqa: E402
import sys  # noqa: E402


def _mark(path: str, event: str, moment: float, **fields) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"event": event, "time": moment, **fields}) + "\n")


def main() -> None:
    marks = sys.argv[1]
    _mark(marks, "interpreter_ready", STARTED)
    from ansible.cli.playbook import PlaybookCLI
    from ansible.inventory.manager import InventoryManager

    _mark(marks, "ansible_imported", time.time())
    parse_sources = InventoryManager.parse_sources

    def timed_parse_sources(self, *args, **kwargs):
        _mark(marks, "inventory_start", time.time())
        try:
            return parse_sources(self, *args, **kwargs)
        finally:
            _mark(marks, "inventory_end", time.time())

    InventoryManager.parse_sources = timed_parse_sources
    PlaybookCLI.cli_executor(["ansible-playbook", *sys.argv[2:]])


if __name__ == "__main__":
    main()
