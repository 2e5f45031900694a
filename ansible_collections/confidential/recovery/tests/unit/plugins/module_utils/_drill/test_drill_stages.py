# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A drill's stages read off a recovery report, in the shape recover.yml writes it."""

from __future__ import annotations

from recovery_reports import BROKE_AT, recovery_report

from ansible_collections.confidential.recovery.plugins.module_utils._drill._result import checked, verdict
from ansible_collections.confidential.recovery.plugins.module_utils._drill._stages import from_recovery_report


def stages_of(result):
    return [(s["stage"], s["node"], s["start"], s["end"], s["status"]) for s in result["stages"]]


def test_every_measured_stage_is_placed_after_the_break():
    result = checked(from_recovery_report(recovery_report(), BROKE_AT, {"name": "full-outage"}, rto_target=60))
    assert stages_of(result) == [
        ("detection", None, 0.0, 6.5, "ok"),
        ("quorum", None, 6.5, 7.7, "ok"),
        ("attestation", "cp-0", 6.55, 6.58, "ok"),
        ("attestation", "cp-1", 6.56, 6.59, "ok"),
        ("pushes", "cp-0", 6.58, 6.66, "ok"),
        ("all_ready", None, 7.7, 31.0, "ok"),
        ("coordinator", None, 31.0, 31.7, "ok"),
        ("workloads", None, 31.7, 34.0, "ok"),
        ("verify", None, 34.0, 34.9, "ok"),
    ]
    assert verdict(result)["rto_seconds"] == 34.9
    assert result["attestation"] == [
        {
            "node": "cp-0",
            "variant": "azure-sev-snp",
            "summary": "TCB bl 3 tee 0 snp 8 ucode 115; PCR 4 fa40da13a356ac6d...",
        }
    ]


def test_an_automatic_recovery_splits_detection_at_the_event():
    report = recovery_report()
    result = checked(from_recovery_report(report, BROKE_AT, {"name": "full-outage"}, event_at=BROKE_AT + 4.0))
    detection = [s for s in result["stages"] if s["stage"] == "detection"]
    assert [(s["start"], s["end"]) for s in detection] == [(0.0, 4.0), (4.0, 6.5)]
    assert "event source" in detection[0]["detail"] and "rulebook" in detection[1]["detail"]
    # an event outside the detection span is a clock the drill cannot place: detection stays whole
    whole = checked(from_recovery_report(report, BROKE_AT, {"name": "full-outage"}, event_at=BROKE_AT + 60))
    assert [(s["start"], s["end"]) for s in whole["stages"] if s["stage"] == "detection"] == [(0.0, 6.5)]


def test_no_quorum_is_a_failed_stage_and_nothing_after_it_is_invented():
    result = checked(from_recovery_report(recovery_report(quorum=False), BROKE_AT, {"name": "full-outage"}))
    names = [s["stage"] for s in result["stages"]]
    assert "all_ready" not in names
    quorum = next(s for s in result["stages"] if s["stage"] == "quorum")
    assert quorum["status"] == "failed" and quorum["detail"] == "push loop: no quorum"
    assert not verdict(result)["passed"]


def test_a_failed_workload_restart_fails_the_drill_and_verify_is_not_drawn():
    result = checked(from_recovery_report(recovery_report(contrast_failed=True), BROKE_AT, {"name": "both"}))
    workloads = next(s for s in result["stages"] if s["stage"] == "workloads")
    assert workloads["status"] == "failed" and workloads["start"] == workloads["end"] == 31.7
    assert "verify" not in [s["stage"] for s in result["stages"]]
    assert verdict(result)["reason"] == "failed: workloads"


def test_through_the_load_balancer_the_pushes_are_one_stage_of_the_whole_loop():
    report = recovery_report()
    report["constellation"].update(
        nodes=[],
        push_loop_started_at=BROKE_AT + 6.5,
        seconds_to_quorum=9.0,
        load_balancer_push={
            "started_at": BROKE_AT + 6.5,
            "elapsed": 8.4,
            "pushed": 2,
            "attempts": 5,
            "endpoint": "10.0.0.1:9999",
        },
    )
    result = checked(from_recovery_report(report, BROKE_AT, {"name": "lb-flapping"}, rto_target=60))
    pushes = [s for s in result["stages"] if s["stage"] == "pushes"]
    assert [(s["node"], s["start"], s["end"]) for s in pushes] == [(None, 6.5, 14.9)]
    assert pushes[0]["detail"] == "2 key(s) through the load balancer 10.0.0.1:9999 in 5 attempt(s)"
    assert ("quorum", None, 6.5, 15.5, "ok") in stages_of(result)


def test_the_coordinator_stage_says_how_the_coordinator_was_reached():
    report = recovery_report()
    report["contrast"]["coordinator_found_by"] = "pod contrast/port-forwarder-coordinator port 1313 (port-forward)"
    result = checked(from_recovery_report(report, BROKE_AT, {"name": "coordinator-restart"}))
    coordinator = next(s for s in result["stages"] if s["stage"] == "coordinator")
    assert coordinator["detail"] == "reached through pod contrast/port-forwarder-coordinator port 1313 (port-forward)"
    report["contrast"]["coordinator_found_by"] = "given"
    result = checked(from_recovery_report(report, BROKE_AT, {"name": "coordinator-restart"}))
    assert next(s for s in result["stages"] if s["stage"] == "coordinator")["detail"] is None


def test_with_several_coordinators_each_has_its_own_span_until_it_was_seen_ready():
    report = recovery_report()
    start = float(report["contrast"]["stage_times"]["recover"][0])
    report["contrast"]["coordinators"] = [
        {"name": "coordinator-0", "outcome": "recovered_by_seed", "why": "received the seed", "ready_at": start + 1},
        {"name": "coordinator-1", "outcome": "recovered_from_peer", "why": "from a peer", "ready_at": start + 14},
        {"name": "coordinator-2", "outcome": "waiting", "why": "still in recovery mode", "ready_at": None},
        {"name": 7, "outcome": "ready"},
        "not a coordinator",
    ]
    result = checked(from_recovery_report(report, BROKE_AT, {"name": "coordinator-all"}))

    spans = {s["node"]: s for s in result["stages"] if s["stage"] == "coordinator" and s["node"]}
    assert sorted(spans) == ["coordinator-0", "coordinator-1", "coordinator-2"]
    assert spans["coordinator-1"]["end"] - spans["coordinator-0"]["end"] == 13.0
    assert spans["coordinator-0"]["detail"] == "recovered by seed: received the seed"
    assert spans["coordinator-2"]["status"] == "failed" and spans["coordinator-1"]["status"] == "ok"
    assert not verdict(result)["passed"]
