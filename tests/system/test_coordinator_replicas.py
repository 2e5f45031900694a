# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Three Coordinator replicas, as Contrast v1.9's StatefulSet runs them: a restarted one recovers from a ready peer
by itself, so the real recover.yml sends no seed when one is lost and exactly one when all are, and the drill report
shows each Coordinator. The lab's Coordinators count the seeds they took, so "no seed" is the lab's word, not only
the module's. Upstream's peer interval (15 s) keeps a restarted replica waiting while the run looks at it."""

from __future__ import annotations

import json

import pytest
from drillkit import drill, stages
from labdriver import running_lab

CONTRAST_ONLY = ("-e", "recover_constellation=false")
NAMES = ["coordinator-0", "coordinator-1", "coordinator-2"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-coordinators", "127.20.26", 3, "--coordinators", "3")


def replicas(lab) -> dict[str, dict]:
    return {member["name"]: member for member in lab.status()["coordinator"]["replicas"]}


def seeds_taken(lab) -> int:
    return sum(member["seed_recoveries"] for member in replicas(lab).values())


def restart(lab, which: str) -> None:
    lab.break_("--reboot", "none", "--restart-coordinator", which)
    restarted = NAMES if which == "all" else [f"coordinator-{n}" for n in which.split(",")]
    lab.wait_for(lambda: all(replicas(lab)[name]["state"] == "stale" for name in restarted), "restarted Coordinators")


def outcomes(run) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in run.report["contrast"]["coordinators"]}


def test_the_lab_runs_three_coordinators_that_took_the_state_from_the_first(lab):
    members = replicas(lab)

    assert sorted(members) == NAMES
    assert {m["state"] for m in members.values()} == {"ready"}
    assert members["coordinator-1"]["recovered_by"] == members["coordinator-2"]["recovered_by"] == "peer coordinator-0"
    assert "contrast_recover_coordinator: ''" in (lab.directory / "recover-vars.yml").read_text()


def test_a_rehearsal_attests_each_coordinator_of_the_healthy_set_and_sends_nothing(lab, tmp_path):
    report = tmp_path / "rehearsal-report.json"
    run = lab.run(
        "-e", f"recovery_report_rehearsal_file={report}", playbook="confidential.recovery.rehearse", report=report
    )  # fmt: skip

    assert run.rc == 0, run.output[-4000:]
    verdicts = {c["check"]: c["verdict"] for c in run.report["checks"] if c["scope"].startswith("contrast")}
    assert [verdicts[f"coordinator {name}"] for name in NAMES] == ["passed"] * 3, verdicts
    assert seeds_taken(lab) == 0 and {m["state"] for m in replicas(lab).values()} == {"ready"}


def test_check_mode_names_the_one_it_would_recover_when_all_are_lost_and_sends_nothing(lab):
    restart(lab, "all")

    run = lab.run(*CONTRAST_ONLY, check=True)

    assert run.rc == 0, run.output[-4000:]
    contrast = run.report["contrast"]
    assert contrast["status"] == "would_recover" and contrast["seeds_sent"] == 0, contrast
    assert "coordinator-0 is the lowest-numbered one in recovery mode" in contrast["plan"]
    whys = {c["name"]: c["why"] for c in contrast["coordinators"]}
    assert whys["coordinator-0"] == "in recovery mode; would receive the seed from this run"
    assert whys["coordinator-2"] == "in recovery mode; would recover from a ready peer"
    assert seeds_taken(lab) == 0
    assert {m["state"] for m in replicas(lab).values()} == {"stale"}


def test_losing_all_three_sends_exactly_one_seed_and_the_others_recover_from_it(lab):
    history = lab.directory / "drills" / "history.json"
    before = len(json.loads(history.read_text())) if history.exists() else 0

    run, result, _reports = drill(lab, "coordinator-all")

    assert run.rc == 0, run.output[-4000:]
    contrast = run.report["contrast"]
    assert contrast["seeds_sent"] == 1 and contrast["status"] == "recovered", contrast
    assert outcomes(run) == {
        "coordinator-0": "recovered_by_seed",
        "coordinator-1": "recovered_from_peer",
        "coordinator-2": "recovered_from_peer",
    }
    members = replicas(lab)
    assert seeds_taken(lab) == 1 and members["coordinator-0"]["recovered_by"] == "seed"
    assert members["coordinator-1"]["recovered_by"] == members["coordinator-2"]["recovered_by"] == "peer coordinator-0"
    assert contrast["mesh_ca_changed"] and contrast["workloads_restarted"], contrast
    per_coordinator = {s["node"]: s for s in stages(result, "coordinator") if s["node"]}
    assert sorted(per_coordinator) == NAMES
    assert per_coordinator["coordinator-0"]["detail"].startswith("recovered by seed")
    assert per_coordinator["coordinator-2"]["detail"].startswith("recovered from peer")
    assert per_coordinator["coordinator-2"]["end"] >= per_coordinator["coordinator-0"]["end"]
    assert len(json.loads(history.read_text())) == before + 1
    assert "coordinator-1    recovered_from_peer" in run.output


def test_losing_one_of_three_sends_no_seed_and_a_peer_recovers_it(lab):
    taken = seeds_taken(lab)

    run, result, _reports = drill(lab, "coordinator-one-of-three")

    assert run.rc == 0, run.output[-4000:]
    contrast = run.report["contrast"]
    assert contrast["seeds_sent"] == 0 and contrast["status"] == "recovered_from_peers", contrast
    assert outcomes(run) == {"coordinator-0": "ready", "coordinator-1": "recovered_from_peer", "coordinator-2": "ready"}
    assert seeds_taken(lab) == taken
    assert replicas(lab)["coordinator-1"]["recovered_by"].startswith("peer coordinator-")
    assert not contrast["mesh_ca_changed"] and contrast["workloads_restarted"] == [], contrast
    per_coordinator = {s["node"]: s["detail"] for s in stages(result, "coordinator") if s["node"]}
    assert per_coordinator["coordinator-1"].startswith("recovered from peer")
    scenarios = [entry["scenario"] for entry in json.loads((lab.directory / "drills" / "history.json").read_text())]
    assert scenarios[-2:] == ["coordinator-all", "coordinator-one-of-three"]


def test_a_coordinator_left_waiting_fails_the_run_naming_it_and_why(lab):
    """A Coordinator that has not recovered from its peers within the wait (none of them can reach it) fails the
    run, named with its state and why; it gets no seed, since its peers hold the state."""
    lab.break_("--coordinator-peers", "unreachable")
    try:
        restart(lab, "1")
        run = lab.run(*CONTRAST_ONLY, "-e", "contrast_recover_peer_wait_timeout=3")
    finally:
        lab.repair("--coordinator")

    assert run.rc != 0
    contrast = run.report["contrast"]
    assert contrast["seeds_sent"] == 0
    waiting = {c["name"]: c for c in contrast["coordinators"]}["coordinator-1"]
    assert waiting["outcome"] == "waiting" and "still in recovery mode" in waiting["why"], waiting
    assert "after waiting 3 s" in waiting["why"]
    assert "coordinator-1 did not recover within peer_wait_timeout (3 s)" in contrast["error"]
    assert replicas(lab)["coordinator-1"]["seed_recoveries"] == 0
    lab.wait_for(lambda: replicas(lab)["coordinator-1"]["state"] == "ready", "coordinator-1 to recover from a peer")


def test_a_later_release_refuses_a_seed_beside_ready_peers_and_a_forced_one_splits_the_set_which_a_run_names(lab):
    """Aimed at one replica (replicas=one), the seed meets a Coordinator that refuses it while its peers are ready;
    forced, it goes in and gives that replica a mesh CA of its own, which the next run over the set reports."""
    lab.break_("--coordinator-peers", "unreachable", "--coordinator-guards-peers")
    one = (
        "-e",
        "contrast_recover_replicas=one",
        "-e",
        f"contrast_recover_coordinator={replicas(lab)['coordinator-1']['ip']}",
    )
    try:
        restart(lab, "1")
        refused = lab.run(*CONTRAST_ONLY, *one)
        forced = lab.run(*CONTRAST_ONLY, *one, "-e", "contrast_recover_force=true")
    finally:
        lab.repair("--coordinator")

    assert refused.rc != 0
    assert (
        "ready Coordinator peers will recover this one; set force only if you must"
        in refused.report["contrast"]["error"]
    )
    assert forced.rc == 0, forced.output[-4000:]
    assert replicas(lab)["coordinator-1"]["recovered_by"] == "seed"

    split = lab.run(*CONTRAST_ONLY)

    assert split.rc != 0
    assert (
        "coordinator-1 serves another mesh CA than coordinator-0: the set has split"
        in split.report["contrast"]["error"]
    )
    restart(lab, "1")
    lab.wait_for(lambda: replicas(lab)["coordinator-1"]["state"] == "ready", "coordinator-1 to recover from a peer")
    assert lab.run(*CONTRAST_ONLY).rc == 0


def test_an_impostor_among_the_coordinators_never_gets_the_seed_and_fails_the_run_by_name(lab):
    """coordinator-0 answers with a workload's policy hash: the seed goes to the lowest-numbered Coordinator that
    attested, the impostor gets nothing and is named as unverified."""
    restart(lab, "all")
    taken = seeds_taken(lab)
    lab.break_("--coordinator-presents", "web", "--presents-on", "0")
    try:
        run = lab.run(*CONTRAST_ONLY)
    finally:
        lab.repair("--coordinator")

    assert run.rc != 0
    contrast = run.report["contrast"]
    assert contrast["seeds_sent"] == 1, contrast
    assert outcomes(run) == {
        "coordinator-0": "unverified",
        "coordinator-1": "recovered_by_seed",
        "coordinator-2": "recovered_from_peer",
    }
    members = replicas(lab)
    assert members["coordinator-0"]["seed_recoveries"] == 0 and members["coordinator-1"]["recovered_by"] == "seed"
    assert seeds_taken(lab) == taken + 1
    impostor = {c["name"]: c for c in contrast["coordinators"]}["coordinator-0"]
    assert "never trusted, never sent anything: attestation failed" in impostor["why"], impostor
    assert "coordinator-0 did not recover" in contrast["error"]
