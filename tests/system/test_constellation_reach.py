# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""How recover.yml reaches the control plane: through the load balancer when asked, or when no node answers on its
own address, and directly when they do."""

from __future__ import annotations

import pytest
from labdriver import running_lab


@pytest.fixture(scope="module")
def reach_lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-reach", "127.20.18", 5, "--no-contrast")


def test_load_balancer_mode_recovers_through_the_cluster_endpoint(reach_lab):
    lab = reach_lab
    lab.break_control_plane()

    run = lab.run("-e", "constellation_recover_mode=load_balancer", "-e", "constellation_recover_lb_interval=1")

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["all_ready"] is True
    assert summary["keys_pushed"] >= 3
    assert set(lab.control_plane_states().values()) == {"unlocked"}


def test_unreachable_node_addresses_fall_back_to_the_load_balancer(reach_lab):
    lab = reach_lab
    lab.break_control_plane()
    # The nodes' private addresses as seen from a controller outside the cluster network: nothing answers there.
    # Beside the lab's own inventory, since the workspace files are found relative to it.
    inventory = lab.directory / "outside.constellation.yml"
    inventory.write_text(
        (lab.directory / "inventory.constellation.yml").read_text()
        + f"compose:\n  ansible_host: \"'{lab.prefix}.250'\"\n"
    )
    try:
        run = lab.run(
            "-e",
            "constellation_recover_reach_timeout=1",
            "-e",
            "constellation_recover_lb_interval=1",
            inventory=inventory,
        )
    finally:
        inventory.unlink()

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["mode"] == "load_balancer", summary
    assert "none of the 5 control-plane nodes answered" in summary["mode_reason"]
    assert "none of the 5 control-plane nodes answered" in run.output
    assert summary["quorum"] is True and summary["all_ready"] is True
    assert set(lab.control_plane_states().values()) == {"unlocked"}


def test_reachable_nodes_are_recovered_directly_in_auto_mode(reach_lab):
    lab = reach_lab
    lab.break_control_plane()

    run = lab.run()

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["mode"] == "direct" and summary["mode_reason"].startswith("5 of 5 control-plane nodes answered"), (
        summary
    )
