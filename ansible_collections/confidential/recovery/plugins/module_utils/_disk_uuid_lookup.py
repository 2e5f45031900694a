# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Backend of the disk_uuid_lookup module: try each given source, newest kind of evidence first."""

from __future__ import annotations

from ._disk_uuid import NoDiskUuid, find_disk_uuid


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def run(module) -> None:
    params = module.params
    sources = [("text", params["text"])]
    for name in ("serial_console", "cloud_log"):
        if params[name]:
            try:
                sources.append((name, _read(params[name])))
            except OSError as exc:
                module.fail_json(msg=f"cannot read {name} {params[name]}: {exc.strerror}")
    problems = []
    for name, text in sources:
        if not text:
            continue
        try:
            disk_uuid, kind = find_disk_uuid(text)
        except NoDiskUuid as exc:
            problems.append(f"{name}: {exc}")
            continue
        module.exit_json(changed=False, disk_uuid=disk_uuid, source=f"{name}: {kind}")
    module.fail_json(msg="; ".join(problems) or "no boot output to search")
