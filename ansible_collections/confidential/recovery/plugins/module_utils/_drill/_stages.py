# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A drill's stages, read off the recovery report that recover.yml wrote, in seconds since the drill broke the
cluster. Only what the run measured becomes a stage; nothing is estimated.

- detection: from the break until the push loop began (the playbook started, discovered the nodes, found which
  it reaches and read what it needed);
- attestation and pushes, per node: the push loop's timeline of each node; through the load balancer, where the
  node is not known, one pushes stage for the whole load-balancer loop;
- quorum: from the push loop's start until the Kubernetes API first reported etcd quorum;
- all_ready: from quorum until every node was Ready;
- coordinator, workloads, verify: the Contrast role's stages (recover, restart, verify).
"""

from __future__ import annotations

from ._result import SCHEMA

_CONTRAST_STAGES = (("recover", "coordinator"), ("restart", "workloads"), ("verify", "verify"))


def _seconds(value) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _span(
    stage: str,
    start: float | None,
    end: float | None,
    broke_at: float,
    status: str = "ok",
    node=None,
    detail: str | None = None,
) -> dict | None:
    if start is None or end is None:
        return None
    return {
        "stage": stage,
        "node": node,
        "start": round(max(0.0, start - broke_at), 3),
        "end": round(max(0.0, end - broke_at, start - broke_at), 3),
        "status": status,
        "detail": detail,
    }


def _constellation(summary: dict, broke_at: float) -> list[dict]:
    started = _seconds(summary.get("started_at"))
    loop_start = _seconds(summary.get("push_loop_started_at"))
    stages = [
        _span(
            "detection",
            broke_at,
            loop_start or started,
            broke_at,
            detail="playbook start, discovery, reachability and lookups",
        )
    ]
    for node in summary.get("nodes") or []:
        for step in node.get("timeline") or []:
            if loop_start is not None:
                stages.append(
                    _span(
                        step["stage"],
                        loop_start + step["start"],
                        loop_start + step["end"],
                        broke_at,
                        step.get("status", "ok"),
                        node.get("node"),
                    )
                )
    lb_push = summary.get("load_balancer_push") or {}
    lb_start, lb_elapsed = _seconds(lb_push.get("started_at")), _seconds(lb_push.get("elapsed"))
    if lb_start is not None and lb_elapsed is not None:
        stages.append(
            _span(
                "pushes",
                lb_start,
                lb_start + lb_elapsed,
                broke_at,
                node=None,
                detail=f"{lb_push.get('pushed')} key(s) through the load balancer {lb_push.get('endpoint')} "
                f"in {lb_push.get('attempts')} attempt(s)",
            )
        )
    to_quorum = _seconds(summary.get("seconds_to_quorum"))
    quorum_at = loop_start + to_quorum if loop_start is not None and to_quorum is not None else None
    if quorum_at is not None:
        stages.append(
            _span("quorum", loop_start, quorum_at, broke_at, detail=f"{summary.get('keys_pushed')} key(s) pushed")
        )
    elif summary.get("status") == "failed" and loop_start is not None:
        stages.append(_span("quorum", loop_start, started, broke_at, "failed", detail=summary.get("error")))
    to_all = _seconds(summary.get("seconds_to_all_ready"))
    if quorum_at is not None and to_all is not None and started is not None:
        stages.append(
            _span(
                "all_ready",
                quorum_at,
                started + to_all,
                broke_at,
                detail=f"control plane {summary.get('control_plane_ready')}/{summary.get('control_plane_total')} Ready",
            )
        )
    return stages


def _with_event(stages: list, event_at: float | None, broke_at: float) -> list:
    """Detection split at the event: the watch noticed, then the rulebook's playbook started and discovered."""
    detection = stages[0] if stages and stages[0] and stages[0]["stage"] == "detection" else None
    event = _seconds(event_at)
    if detection is None or event is None or not detection["start"] <= event - broke_at <= detection["end"]:
        return stages
    noticed = _span("detection", broke_at, event, broke_at, detail="the event source saw the outage (no human)")
    started = _span(
        "detection", event, broke_at + detection["end"], broke_at, detail="the rulebook's playbook started, discovery"
    )
    return [noticed, started, *stages[1:]]


def _contrast(summary: dict, broke_at: float) -> list[dict]:
    stages = []
    statuses = {stage["stage"]: stage for stage in summary.get("stages") or []}
    for contrast_stage, drill_stage in _CONTRAST_STAGES:
        start, end = (_seconds(value) for value in (summary.get("stage_times") or {}).get(contrast_stage, (None, None)))
        reported = statuses.get(contrast_stage, {})
        status = {"ok": "ok", "failed": "failed"}.get(reported.get("status"), "skipped")
        if status == "failed" and end is None:
            end = start
        detail = reported.get("reason")
        found_by = summary.get("coordinator_found_by")
        if drill_stage == "coordinator" and not detail and isinstance(found_by, str) and found_by != "given":
            detail = f"reached through {found_by[:160]}"
        stages.append(_span(drill_stage, start, end, broke_at, status, detail=detail))
        if drill_stage == "coordinator":
            stages += _each_coordinator(summary, start, end, broke_at)
    return stages


_BACK = ("recovered_by_seed", "recovered_from_peer", "ready")


def _each_coordinator(summary: dict, start: float | None, end: float | None, broke_at: float) -> list[dict]:
    """With several Coordinators, one span each, from the recovery's start to when it was seen ready."""
    members = summary.get("coordinators")
    spans = []
    for member in members if isinstance(members, list) else []:
        if not isinstance(member, dict) or not isinstance(member.get("name"), str):
            continue
        outcome = str(member.get("outcome"))
        ready_at = _seconds(member.get("ready_at"))
        until = max(ready_at, start) if ready_at is not None and start is not None else end
        status = "ok" if outcome in _BACK else "failed"
        detail = f"{outcome.replace('_', ' ')}: {str(member.get('why') or '')[:200]}"
        spans.append(_span("coordinator", start, until, broke_at, status, node=member["name"], detail=detail))
    return spans


def attestation_rows(summary: dict) -> list[dict]:
    """Per node, the variant and what it presented: the SNP TCB where there is one, and PCR 4 (the image)."""
    rows = []
    for node in summary.get("nodes") or []:
        evidence = node.get("attestation") or {}
        if not evidence:
            continue
        platform = evidence.get("platform") if isinstance(evidence.get("platform"), dict) else {}
        tcb = platform.get("reported_tcb") or {}
        parts = [
            f"TCB bl {tcb.get('bootloader')} tee {tcb.get('tee')} snp {tcb.get('snp')} ucode {tcb.get('microcode')}"
            if tcb
            else "",
            f"PCR 4 {str((evidence.get('measurements') or {}).get('4', '-'))[:16]}...",
        ]
        rows.append(
            {
                "node": node.get("node"),
                "variant": evidence.get("variant", ""),
                "summary": "; ".join(part for part in parts if part),
            }
        )
    return rows


def from_recovery_report(
    report: dict,
    broke_at: float,
    scenario: dict,
    target: str = "lab",
    started_at: str = "",
    rto_target: float | None = None,
    event_at: float | None = None,
) -> dict:
    """The schema-1 drill result of one recover.yml run, ``broke_at`` being when the drill broke the cluster, and
    ``event_at`` (a recovery that Event-Driven Ansible started) when the event source's event was seen."""
    stages = []
    if report.get("constellation"):
        stages += _with_event(_constellation(report["constellation"], broke_at), event_at, broke_at)
    if report.get("contrast"):
        stages += _contrast(report["contrast"], broke_at)
    return {
        "schema": SCHEMA,
        "scenario": scenario,
        "target": target,
        "started_at": started_at,
        "rto_target_seconds": rto_target,
        "stages": [stage for stage in stages if stage is not None],
        "attestation": attestation_rows(report.get("constellation") or {}),
    }
