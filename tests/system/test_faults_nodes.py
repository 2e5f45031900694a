# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Faults of the nodes and the load balancer: nodes that are down, boot late, reboot after their push, lose etcd,
and a load balancer that sends to a node that is already recovered."""

from __future__ import annotations

import pytest
from faultkit import (
    CONSTELLATION_ONLY,
    CP,
    FAST,
    broken,
    fault_lab,
    received,
    record,
    settle,
    table,
)
from reporting import assert_no_constellation_leak, node, outcomes

__all__ = ["broken", "record", "table"]  # fixtures, used by name


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from fault_lab(tmp_path_factory, "127.20.5")


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
