# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The fault suite: the real recover.yml against a lab that misbehaves, one case per test.

Each case checks the outcome and its message, that nothing is lost (a rerun after repair finishes
the job), and that no key material reaches the output or the report.
"""

from __future__ import annotations

import json

import pytest
from labdriver import REPO, ansible_env, start_lab
from leakcheck import contrast_secret_forms, leaked
from reporting import assert_no_constellation_leak, node, outcomes

CP = [f"conflab-control-plane-{i}" for i in range(5)]
# These faults are about the quorum loop's arithmetic (how many keys, which nodes count as up), so the runs pin
# stop_at=quorum; recover.yml's default pushes every waiting node.
QUORUM_ONLY = ("-e", "constellation_recover_stop_at=quorum")
FAST = (
    "-e",
    "constellation_recover_call_timeout=5",
    "-e",
    "constellation_recover_heal_timeout=8",
    "-e",
    "constellation_recover_quorum_timeout=45",
    *QUORUM_ONLY,
)
CONSTELLATION_ONLY = ("-e", "contrast_recover_coordinator=", *QUORUM_ONLY)
RECEIVED = "Received recover call"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    lab = start_lab(tmp_path_factory, "lab-faults", "127.20.5", 5)
    try:
        yield lab
    finally:
        lab.down()


@pytest.fixture(scope="module")
def table():
    """What each case did, for the maintainers' notes: build/fault-suite.json. Recorded, never asserted."""
    rows = []
    yield rows
    out = REPO / "build" / "fault-suite.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


@pytest.fixture
def record(table, request):
    def add(run, note=""):
        summary = (run.report or {}).get("constellation") or {}
        table.append(
            {
                "case": request.node.name,
                "rc": run.rc,
                "seconds": run.seconds,
                "quorum": summary.get("quorum"),
                "keys_pushed": summary.get("keys_pushed"),
                "keys_needed": summary.get("keys_needed"),
                "failures": (run.report or {}).get("failures"),
                "note": note,
            }
        )

    return add


@pytest.fixture
def broken(lab):
    """Every fault of the previous case repaired, then the whole control plane rebooted and waiting."""
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    lab.break_control_plane()
    return lab


def settle(lab) -> None:
    """Leave a healthy cluster for the next case: nodes back, and a green run."""
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    run = lab.run(*CONSTELLATION_ONLY, "-e", "constellation_recover_stop_at=all")
    assert run.rc == 0, run.output[-3000:]


def received(lab) -> int:
    return lab.consoles().count(RECEIVED)


# -- nodes that come and go ------------------------------------------------------------------------------


def test_a_down_node_is_not_counted_as_up(broken, record):
    lab = broken
    lab.break_("--kill", CP[0])

    run = lab.run(*CONSTELLATION_ONLY, *FAST)
    record(run, "run")

    assert run.rc != 0  # the killed node never becomes Ready
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["keys_pushed"] == 3, summary
    assert outcomes(run)[CP[0]] == "down"
    assert "conflab-control-plane-0: down" in run.output
    assert_no_constellation_leak(lab, run)

    lab.repair("--nodes", CP[0])
    rerun = lab.run(*CONSTELLATION_ONLY)
    record(rerun, "rerun")
    assert rerun.rc == 0, rerun.output[-3000:]
    assert rerun.report["constellation"]["keys_pushed"] == 0
    assert set(lab.control_plane_states().values()) == {"unlocked"}


def test_a_node_booting_late_gets_its_key_in_a_later_round(broken, record):
    lab = broken
    lab.break_("--kill", ",".join(CP[:3]))
    before = received(lab)
    background = lab.start(*CONSTELLATION_ONLY, *FAST, report=lab.directory / "late.json")
    lab.wait_for(
        lambda: received(lab) - before >= 2 or background.process.poll() is not None, "the first round's pushes"
    )
    lab.repair("--nodes", ",".join(CP[:3]))

    run = background.finish()
    record(run, "run")

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["all_ready"] is True
    assert summary["keys_pushed"] == 3 and summary["rounds"] >= 2, summary
    assert_no_constellation_leak(lab, run)


def test_a_node_rebooting_after_its_push_is_pushed_again(broken, record):
    lab = broken
    lab.break_("--fault", f"{CP[0]}=reboot-after-push")

    run = lab.run(*CONSTELLATION_ONLY, *FAST)
    record(run, "run")

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["all_ready"] is True
    assert summary["keys_pushed"] == 4, summary  # 3 needed, one of them lost in the crash
    assert "waits for a key again after its push" in run.output
    assert node(run, CP[0])["keys"] == 2
    assert_no_constellation_leak(lab, run)


def test_a_keyed_node_whose_etcd_crashes_is_topped_up_after_the_grace(broken, record):
    lab = broken
    lab.break_("--fault", f"{CP[0]}=etcd-fails")

    run = lab.run(*CONSTELLATION_ONLY, *FAST, "-e", "constellation_recover_quorum_grace=5")
    record(run, "run")

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["topped_up"] is True, summary
    assert summary["keys_pushed"] == 5, summary  # 3 for quorum, then the 2 others once quorum stayed away
    assert "hold a key, yet etcd has no quorum" in run.output
    assert "etcd member exited with code" in (lab.directory / "nodes" / CP[0] / "console.log").read_text()
    assert_no_constellation_leak(lab, run)


# -- hostile recovery servers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "outcome", "message"),
    [
        ("stall", "down", "no TLS handshake within"),
        ("drop", "down", "closed the connection during the TLS handshake"),
        ("http", "down", "does not speak TLS"),
        ("plain-tls", "failed", "attestation failed, nothing sent"),
        ("malformed", "failed", "HTTP/2 protocol error"),
    ],
)
def test_a_hostile_recovery_server_gets_nothing_and_the_rest_recovers(broken, kind, outcome, message, record):
    lab = broken
    lab.break_("--fault", f"{CP[0]}={kind}")
    before = received(lab)

    run = lab.run(*CONSTELLATION_ONLY, *FAST)
    record(run, "run")

    assert run.rc != 0  # the hostile "node" never becomes Ready
    summary = run.report["constellation"]
    assert summary["quorum"] is True, summary
    assert sum(1 for n in summary["nodes"] if n["outcome"] == "pushed") == 3
    hostile = node(run, CP[0])
    assert hostile["outcome"] == outcome and hostile["keys"] == 0, hostile
    assert message in (hostile["error"] or hostile["note"] or ""), hostile
    assert received(lab) - before == 3
    assert_no_constellation_leak(lab, run)
    settle(lab)


def test_load_balancer_sending_to_a_recovered_node_is_retried(broken, record):
    lab = broken
    lab.repair("--nodes", "all")
    settle(lab)
    lab.break_("--reboot", ",".join(CP[:4]), "--lb", "stale-pool")
    lab.wait_for(lambda: list(lab.control_plane_states().values()).count("waiting") == 4, "four nodes waiting")

    run = lab.run(
        *CONSTELLATION_ONLY,
        "-e",
        "constellation_recover_mode=load_balancer",
        "-e",
        "constellation_recover_lb_interval=1",
    )
    record(run, "run")

    assert run.rc == 0, run.output[-4000:]
    assert run.report["constellation"]["quorum"] is True
    assert set(lab.control_plane_states().values()) == {"unlocked"}
    assert "Traceback" not in run.output
    assert_no_constellation_leak(lab, run)


# -- the Kubernetes API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api_fault", ["down", "stall"])
def test_kubernetes_api_fault_stops_contrast_and_a_rerun_finishes(broken, api_fault, record):
    lab = broken
    lab.break_("--kubeapi", api_fault, "--restart-coordinator")

    run = lab.run(*FAST, "-e", "constellation_recover_quorum_timeout=10")
    record(run, "run")

    assert run.rc != 0
    summary = run.report["constellation"]
    assert summary["quorum"] is False and summary["keys_pushed"] == 3, summary
    assert "Kubernetes API unreachable" in summary["api_detail"]
    assert "still_waiting" not in outcomes(run).values() or received(lab) >= 3
    contrast = next(s for s in run.report["stages"] if s["stage"] == "contrast")
    assert contrast["status"] == "not_run" and "quorum is not proven" in contrast["reason"]
    assert any(f.startswith("contrast not run") for f in run.report["failures"])
    assert lab.status()["coordinator"]["state"] == "stale"
    assert_no_constellation_leak(lab, run)

    lab.repair("--kubeapi")
    rerun = lab.run()
    record(rerun, "rerun")
    assert rerun.rc == 0, rerun.output[-4000:]
    # The nodes keyed by the first run are not pushed again; the others have healed from their peers by now, or (on a
    # slow machine) are pushed by the rerun's default stop_at=all: both are correct.
    keyed = {name for name, outcome in outcomes(run).items() if outcome == "pushed"}
    again = {name for name, outcome in outcomes(rerun).items() if outcome == "pushed"}
    assert not keyed & again, (keyed, again)
    assert set(lab.control_plane_states().values()) == {"unlocked"}
    assert rerun.report["contrast"]["recovered"] is True


# -- Contrast stages ----------------------------------------------------------------------------------------


def test_failed_workload_restart_is_repeated_by_the_rerun(lab, record):
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    lab.break_("--reboot", "none", "--restart-coordinator", "--workloads", "fail")
    lab.wait_for(lambda: lab.status()["coordinator"]["state"] == "stale", "coordinator in recovery mode")
    baseline = lab.directory / "contrast" / "verify" / "mesh-ca.pem"
    before = baseline.read_bytes() if baseline.exists() else None

    run = lab.run("-e", "recover_constellation=false")
    record(run, "run")

    assert run.rc != 0
    contrast = run.report["contrast"]
    assert contrast["recovered"] is True and contrast["failed_stage"] == "restart", contrast
    assert "conflab-fault" in contrast["error"]
    assert contrast["mesh_ca_recorded"] is False
    assert (baseline.read_bytes() if baseline.exists() else None) == before
    assert any("contrast restart failed" in f for f in run.report["failures"])
    assert leaked(contrast_secret_forms(lab.directory / "contrast"), run.output, json.dumps(run.report)) == []

    lab.repair("--workloads")
    rerun = lab.run("-e", "recover_constellation=false")
    record(rerun, "rerun")
    assert rerun.rc == 0, rerun.output[-4000:]
    assert rerun.report["contrast"]["status"] == "already_recovered"
    assert {w["name"] for w in rerun.report["contrast"]["workloads_restarted"]} >= {"web", "emoji", "db"}
    assert rerun.report["contrast"]["mesh_ca_recorded"] is True

    third = lab.run("-e", "recover_constellation=false")
    record(third, "third")
    assert third.rc == 0 and third.report["contrast"]["workloads_restarted"] == []


# -- the run itself ---------------------------------------------------------------------------------------


def test_sigint_during_the_push_then_a_rerun_finishes(broken, record):
    lab = broken
    before = received(lab)
    background = lab.start(*CONSTELLATION_ONLY, report=lab.directory / "interrupted.json")
    lab.wait_for(lambda: received(lab) > before or background.process.poll() is not None, "the first push", timeout=120)
    background.interrupt()
    interrupted = background.finish(timeout=120)
    record(interrupted, "interrupted")
    assert interrupted.rc != 0

    run = lab.run(*CONSTELLATION_ONLY)
    record(run, "run")

    assert run.rc == 0, run.output[-4000:]
    assert "took over the lock" in run.output
    assert run.report["constellation"]["quorum"] is True and run.report["constellation"]["all_ready"] is True
    assert set(lab.control_plane_states().values()) == {"unlocked"}
    assert_no_constellation_leak(lab, run)
    assert_no_constellation_leak(lab, interrupted)


def test_two_concurrent_runs_do_not_push_side_by_side(broken, record):
    lab = broken
    before = received(lab)
    lock = lab.directory / ".confidential-recovery.lock"
    first = lab.start(*CONSTELLATION_ONLY, report=lab.directory / "first.json")
    lab.wait_for(lambda: lock.exists() or first.process.poll() is not None, "the first run's lock")

    second = lab.run(*CONSTELLATION_ONLY, report=lab.directory / "second.json")
    record(second, "second")
    done = first.finish()
    record(done, "done")

    assert second.rc != 0
    assert "another recovery run holds" in second.output
    assert_no_constellation_leak(lab, second)
    assert_no_constellation_leak(lab, done)
    assert second.report["preflight"]["ok"] is False
    assert second.report["constellation"] is None
    assert done.rc == 0, done.output[-4000:]
    assert done.report["constellation"]["keys_pushed"] == 3
    assert received(lab) - before == 3
    assert not lock.exists()


def test_broken_inventory_stops_the_run_without_the_repository_config(lab, tmp_path, record):
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    lab.break_("--reboot", "none", "--restart-coordinator")
    lab.wait_for(lambda: lab.status()["coordinator"]["state"] == "stale", "coordinator in recovery mode")
    broken_inventory = tmp_path / "cluster.constellation.yml"
    broken_inventory.write_text("plugin: confidential.recovery.constellation\nprovider: lab\nstate_file: absent.yaml\n")
    plain_config = tmp_path / "ansible.cfg"
    plain_config.write_text("[defaults]\nstdout_callback = default\n")
    env = dict(ansible_env(), ANSIBLE_CONFIG=str(plain_config))

    run = lab.run(inventory=broken_inventory, env=env)
    record(run, "run")

    assert run.rc != 0
    assert "no Constellation control-plane hosts" in run.output
    assert run.report["preflight"]["ok"] is False
    assert lab.status()["coordinator"]["state"] == "stale"
    assert leaked(contrast_secret_forms(lab.directory / "contrast"), run.output, json.dumps(run.report)) == []
    assert lab.run().rc == 0


def test_a_port_out_of_range_is_refused_before_anything_is_sent(broken, record):
    lab = broken
    before = received(lab)

    run = lab.run(*CONSTELLATION_ONLY, "-e", "constellation_recover_port=70000")
    record(run, "run")

    assert run.rc != 0
    assert "must be from 1 to 65535, got 70000" in run.output
    assert received(lab) == before
    assert set(lab.control_plane_states().values()) == {"waiting"}
    assert json.dumps(run.report["stages"]).count("failed") >= 1
    assert_no_constellation_leak(lab, run)


def test_invalid_role_arguments_still_write_the_report(broken, record):
    lab = broken

    run = lab.run(*CONSTELLATION_ONLY, "-e", "constellation_recover_stop_at=sometimes")
    record(run, "run")

    assert run.rc != 0
    assert run.report is not None
    stage = next(s for s in run.report["stages"] if s["stage"] == "constellation")
    assert stage["status"] == "failed" and "constellation_recover_stop_at" in stage["reason"]
    assert set(lab.control_plane_states().values()) == {"waiting"}
    assert_no_constellation_leak(lab, run)
