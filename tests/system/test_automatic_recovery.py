# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Recovery without a human: ansible-rulebook runs the collection's rulebook (confidential.recovery.auto_recover)
with its event source (cluster_watch) against the lab, the lab breaks, and no test step touches the cluster until the
case's outcome is in. The cases share one rulebook, in this order, as an operator's week would: a full outage, a
second one inside the cooldown, a recovery that fails, and a Kubernetes API that is down while no node waits."""

from __future__ import annotations

import time

import pytest
from faultkit import received
from labdriver import ansible_env, running_lab
from leakcheck import constellation_secret_forms, leaked
from reporting import disk_uuids

from conflab.automatic import Rulebook, all_ready, timeline

CONSTELLATION_ONLY = ("-e", "recover_contrast=false")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-automatic", "127.20.24", 5, "--attestation", "qemu-vtpm")


@pytest.fixture(scope="module")
def rulebook(lab):
    watcher = Rulebook(lab.directory, interval=2, cooldown=120)
    watcher.ledger_file.unlink(missing_ok=True)
    watcher.start(env=ansible_env())
    try:
        watcher.wait_watching()
        yield watcher
    finally:
        watcher.stop()
        print(watcher.text()[-3000:])


def healthy(lab) -> bool:
    return all_ready(lab.status())


def wait_healthy(lab, rulebook, timeout=120) -> None:
    rulebook.wait_until(lambda: healthy(lab), "a healthy lab", timeout, poll=0.5)


def log_after(rulebook, mark: int) -> str:
    return rulebook.text()[mark:]


def test_a_full_outage_is_recovered_with_no_manual_step(lab, rulebook):
    wait_healthy(lab, rulebook)
    time.sleep(3)  # the watch has seen the healthy cluster
    broke_at = time.time()
    lab.break_("--reboot", "all", "--restart-coordinator")

    seen = timeline(rulebook, broke_at, lab.status, timeout=120)

    assert seen["outcome"] == "recovered" and seen["event"] == "nodes_waiting", seen
    assert 0 < seen["event_fired"] <= seen["playbook_started"] < seen["quorum"] <= seen["all_ready"], seen
    (run,) = rulebook.ledger()
    assert run["outcome"] == "recovered"
    rulebook.wait_until(lambda: "automatic recovery recovered" in rulebook.text(), "the outcome's event", 30)
    forms = constellation_secret_forms(lab.directory / "constellation-mastersecret.json", disk_uuids(lab))
    assert leaked(forms, rulebook.text()) == []


def test_a_coordinator_restart_alone_is_recovered_with_no_key_pushed(lab, rulebook):
    wait_healthy(lab, rulebook)
    rulebook.ledger_file.unlink()  # no cooldown from the full outage
    mark, keys_before = len(rulebook.text()), received(lab)
    lab.break_("--restart-coordinator")

    rulebook.wait_until(
        lambda: "automatic recovery recovered" in log_after(rulebook, mark), "the Coordinator's recovery", 120
    )
    (run,) = rulebook.ledger()
    assert run["event"] == "coordinator_waiting" and run["outcome"] == "recovered"
    assert "coordinator_waiting: etcd has quorum; the Coordinator is in recovery mode" in log_after(rulebook, mark)
    assert received(lab) == keys_before  # the nodes were fine: no key went out
    wait_healthy(lab, rulebook)


def test_a_second_outage_inside_the_cooldown_starts_no_second_run(lab, rulebook):
    wait_healthy(lab, rulebook)
    runs_before = len(rulebook.ledger())
    mark = len(rulebook.text())
    lab.break_control_plane()

    rulebook.wait_until(
        lambda: "automatic recovery skipped: cooldown" in log_after(rulebook, mark), "the cooldown's refusal", 60
    )
    assert len(rulebook.ledger()) == runs_before
    assert lab.control_plane_states() == dict.fromkeys(lab.control_plane_states(), "waiting")

    repaired = lab.run(*CONSTELLATION_ONLY)  # the person the cooldown called in
    assert repaired.report["constellation"]["quorum"] is True, repaired.output[-3000:]


def test_a_failed_recovery_emits_its_failure(lab, rulebook):
    wait_healthy(lab, rulebook)
    rulebook.ledger_file.unlink()  # no cooldown from the earlier cases
    mark = len(rulebook.text())
    lab.break_("--workspace", "foreign-master-secret")
    lab.break_control_plane()

    rulebook.wait_until(lambda: "PAGE: the automatic recovery" in log_after(rulebook, mark), "the page", 120)
    (run,) = rulebook.ledger()
    assert run["outcome"] == "failed"
    assert set(lab.control_plane_states().values()) == {"waiting"}  # no key went to the nodes

    lab.repair("--workspace")
    rulebook.ledger_file.unlink()
    repaired = lab.run(*CONSTELLATION_ONLY)
    assert repaired.report["constellation"]["quorum"] is True, repaired.output[-3000:]


def test_with_the_api_down_and_no_node_waiting_nothing_runs_and_the_event_says_why(lab, rulebook):
    wait_healthy(lab, rulebook)
    rulebook.ledger_file.unlink(missing_ok=True)
    mark = len(rulebook.text())
    lab.break_("--kubeapi", "down")
    try:
        rulebook.wait_until(lambda: "no recovery run:" in log_after(rulebook, mark), "the quorum_lost event", 60)
        time.sleep(5)  # two more looks: still nothing to run
        said = log_after(rulebook, mark)
        assert "no control-plane node waits for a key" in said and "Kubernetes API unreachable" in said, said[-2000:]
        assert "PLAY [" not in said and rulebook.ledger() == []
    finally:
        lab.repair("--kubeapi")
