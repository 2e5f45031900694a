# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Backend of the disk_uuid_lookup module: try each given source, newest kind of evidence first."""

from __future__ import annotations

from ._boot_log import read_console
from ._discovery import DiscoveryError
from ._disk_uuid import NoDiskUuid, find_disk_uuid, node_state


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _sources(module) -> list[tuple[str, str, bool]]:
    """(name, text, truncated) of every source the user gave; fails the module on one it cannot read."""
    params = module.params
    sources = [("text", params["text"] or "", False)]
    if params["boot_log"]:
        try:
            console = read_console(params["boot_log"], params["timeout"])
        except DiscoveryError as exc:
            module.fail_json(msg=str(exc))
        sources.append((console.source, console.text, console.truncated))
    for name in ("serial_console", "cloud_log"):
        if params[name]:
            try:
                sources.append((name, _read(params[name]), False))
            except OSError as exc:
                module.fail_json(msg=f"cannot read {name} {params[name]}: {exc.strerror}")
    return [source for source in sources if source[1]]


def run(module) -> None:
    sources = _sources(module)
    problems, state, evidence = [], "unknown", ""
    for name, text, truncated in sources:
        if state == "unknown":
            state, evidence = node_state(text)
        try:
            disk_uuid, kind = find_disk_uuid(text)
        except NoDiskUuid as exc:
            hint = (" The console no longer holds the node's first boot lines (the cloud keeps only the newest "
                    "part): read it earlier, or pass the UUID from a saved log.") if truncated else ""
            problems.append(f"{name}: {exc}.{hint}")
            continue
        module.exit_json(changed=False, disk_uuid=disk_uuid, source=f"{name}: {kind}", node_state=state, evidence=evidence)
    module.fail_json(msg="; ".join(problems) or "no boot output to search", node_state=state, evidence=evidence)
