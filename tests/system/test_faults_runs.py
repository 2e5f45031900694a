# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Faults around the run: the Kubernetes API, the Contrast stages, Ctrl-C, concurrent runs, broken inventories and
arguments."""

from __future__ import annotations

import json

import pytest
from faultkit import (
    CONSTELLATION_ONLY,
    FAST,
    broken,
    fault_lab,
    received,
    record,
    table,
)
from labdriver import ansible_env
from leakcheck import contrast_secret_forms, leaked
from reporting import assert_no_constellation_leak, outcomes

__all__ = ["broken", "record", "table"]  # fixtures, used by name


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from fault_lab(tmp_path_factory, "127.20.17")


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
