# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A drill's result: the JSON that is the source of truth for every rendering (JUnit, HTML), its RTO and verdict,
and the history file that a trend is drawn from.

The result (schema 1)::

    {"schema": 1, "scenario": {"name": ..., "parameters": {...}}, "target": "lab" | "<cluster name>",
     "started_at": "<ISO 8601 UTC>", "rto_target_seconds": 120.0 | null,
     "stages": [{"stage": "quorum", "node": null | "<host>", "start": 0.0, "end": 1.2, "status": "ok",
                 "detail": "..."}],
     "attestation": [{"node": ..., "variant": ..., "summary": ...}]}

``start`` and ``end`` are seconds since the drill broke the cluster. The RTO is the end of the last stage: the
moment everything was back and verified.
"""

from __future__ import annotations

import json
import math

SCHEMA = 1
STAGES = ("detection", "attestation", "pushes", "quorum", "all_ready", "coordinator", "workloads", "verify")
STATUSES = ("ok", "failed", "skipped")
HISTORY_KEEP = 50  # entries kept in the history file; the HTML trend shows the newest of them


class DrillResultError(ValueError):
    """The drill result is not what schema 1 describes; the message names the field."""


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise DrillResultError(f"{where} must be a number of seconds, not {value!r}")
    return float(value)


def checked(result: dict) -> dict:
    """The result with its stages checked and sorted by start; raises DrillResultError naming the bad field."""
    if not isinstance(result, dict):
        raise DrillResultError("the drill result must be a mapping")
    if result.get("schema", SCHEMA) != SCHEMA:
        raise DrillResultError(f"schema {result.get('schema')!r} is not {SCHEMA}")
    scenario = result.get("scenario")
    if not isinstance(scenario, dict) or not scenario.get("name"):
        raise DrillResultError("scenario.name is missing")
    stages = []
    for index, stage in enumerate(result.get("stages") or []):
        where = f"stages[{index}]"
        if not isinstance(stage, dict):
            raise DrillResultError(f"{where} must be a mapping, not {stage!r}")
        if stage.get("stage") not in STAGES:
            raise DrillResultError(f"{where}.stage {stage.get('stage')!r} is not one of {', '.join(STAGES)}")
        status = stage.get("status", "ok")
        if status not in STATUSES:
            raise DrillResultError(f"{where}.status {status!r} is not one of {', '.join(STATUSES)}")
        start, end = _number(stage.get("start"), f"{where}.start"), _number(stage.get("end"), f"{where}.end")
        if end < start:
            raise DrillResultError(f"{where} ends ({end}) before it starts ({start})")
        stages.append({**stage, "status": status, "start": start, "end": end})
    if not stages:
        raise DrillResultError("the drill result has no stages")
    target = result.get("rto_target_seconds")
    if target is not None:
        _number(target, "rto_target_seconds")
    order = {name: position for position, name in enumerate(STAGES)}
    stages.sort(key=lambda s: (s["start"], order[s["stage"]], s.get("node") or ""))
    return {**result, "schema": SCHEMA, "stages": stages, "attestation": list(result.get("attestation") or [])}


def rto_seconds(result: dict) -> float | None:
    """When the last stage ended, or None when a stage failed (the cluster did not come back)."""
    if any(stage["status"] == "failed" for stage in result["stages"]):
        return None
    return round(max(stage["end"] for stage in result["stages"]), 3)


def verdict(result: dict) -> dict:
    """passed, with the RTO and why not: a failed stage, or a missed target."""
    rto, target = rto_seconds(result), result.get("rto_target_seconds")
    failed = [stage for stage in result["stages"] if stage["status"] == "failed"]
    if failed:
        names = ", ".join(f"{s['stage']}{' on ' + s['node'] if s.get('node') else ''}" for s in failed)
        return {"passed": False, "rto_seconds": None, "rto_target_seconds": target, "reason": f"failed: {names}"}
    if target is not None and rto > target:
        return {
            "passed": False,
            "rto_seconds": rto,
            "rto_target_seconds": target,
            "reason": f"RTO {rto:.1f} s missed the target of {target:.1f} s",
        }
    reason = f"RTO {rto:.1f} s" + (
        f" within the target of {target:.1f} s" if target is not None else " (no target set)"
    )
    return {"passed": True, "rto_seconds": rto, "rto_target_seconds": target, "reason": reason}


def history_entry(result: dict) -> dict:
    outcome = verdict(result)
    return {
        "started_at": result.get("started_at"),
        "scenario": result["scenario"]["name"],
        "target": result.get("target"),
        "rto_seconds": outcome["rto_seconds"],
        "passed": outcome["passed"],
    }


def read_history(path: str) -> list[dict]:
    """The drills recorded so far, oldest first; a missing file is an empty history."""
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise DrillResultError(f"the drill history {path} cannot be read: {exc}") from exc
    if not isinstance(entries, list):
        raise DrillResultError(f"the drill history {path} is not a JSON list")
    return entries


def with_entry(history: list[dict], result: dict) -> list[dict]:
    return (history + [history_entry(result)])[-HISTORY_KEEP:]
