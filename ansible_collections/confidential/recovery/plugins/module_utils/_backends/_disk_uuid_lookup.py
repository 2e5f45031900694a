# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the disk_uuid_lookup module: try each given source, newest kind of evidence first."""

from __future__ import annotations

from .._cloud._boot_log import read_console
from .._cloud._cloud_logging import read_cloud_log
from .._cloud._discovery import DiscoveryError
from .._cloud._disk_uuid import NoDiskUuid, find_disk_uuid, node_state


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _sources(module, problems: list):
    """(name, text, truncated, shows the boot) of each source the user gave, read only when the ones before had no UUID.
    A console or file that cannot be read fails the module; the cloud's logging service, asked last and only for
    clusters old enough to have one, adds a problem instead."""
    params = module.params
    yield "text", params["text"] or "", False, True
    if params["boot_log"]:
        try:
            console = read_console(params["boot_log"], params["timeout"])
        except DiscoveryError as exc:
            module.fail_json(msg=str(exc))
        yield console.source, console.text, console.truncated, True
    for name in ("serial_console", "cloud_log"):
        if params[name]:
            try:
                yield name, _read(params[name]), False, True
            except OSError as exc:
                module.fail_json(msg=f"cannot read {name} {params[name]}: {exc.strerror}")
    if params["boot_log"] and params["cloud_logging"]:
        try:
            logged = read_cloud_log(params["boot_log"], params["timeout"])
        except DiscoveryError as exc:
            problems.append(f"cloud logging: {exc}")
            return
        if not logged.text:
            problems.append(
                f"{logged.source}: no Disk UUID entry in the last 30 days (only CLI v2.0 to v2.15 wrote one)"
            )
        # An old entry names the disk, but says nothing about the boot the node is in now.
        yield logged.source, logged.text, False, False


def run(module) -> None:
    problems, state, evidence = [], "unknown", ""
    for name, text, truncated, shows_boot in _sources(module, problems):
        if not text:
            if name != "text":  # the text option, not given
                problems.append(f"{name}: empty")
            continue
        if state == "unknown" and shows_boot:
            state, evidence = node_state(text)
        try:
            disk_uuid, kind = find_disk_uuid(text)
        except NoDiskUuid as exc:
            hint = (
                (
                    " The console no longer holds the node's first boot lines (the cloud keeps only the newest "
                    "part): read it earlier, or pass the UUID from a saved log."
                )
                if truncated
                else ""
            )
            problems.append(f"{name}: {exc}.{hint}")
            continue
        module.exit_json(
            changed=False, disk_uuid=disk_uuid, source=f"{name}: {kind}", node_state=state, evidence=evidence
        )
    module.fail_json(msg="; ".join(problems) or "no boot output to search", node_state=state, evidence=evidence)
