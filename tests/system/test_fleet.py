# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A fleet: two lab clusters in one inventory, both control planes rebooted, one recover.yml run brings both back,
each by its own leader at the same time, with a report per cluster and a lock per workspace."""

from __future__ import annotations

import json
import subprocess

import pytest
from labdriver import BIN, RECOVER, Lab, ansible_env
from reporting import assert_every_control_plane_node_recovered


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, collection_installed):
    labs = [
        Lab(tmp_path_factory.mktemp(name), prefix, 3)
        for name, prefix in (("fleet-a", "127.20.14"), ("fleet-b", "127.20.15"))
    ]
    try:
        for lab, name in zip(labs, ("fleet-a", "fleet-b"), strict=False):
            lab.up("--rejoin-interval", "3", "--workers", "1", "--no-contrast", "--name", name)
        yield labs
    finally:
        for lab in labs:
            lab.down()


def recover(labs, report):
    command = [
        str(BIN / "ansible-playbook"),
        str(RECOVER),
        "-e",
        f"@{labs[0].directory / 'recover-vars.yml'}",
        "-e",
        f"recovery_report_file={report}",
    ]
    for lab in labs:
        command += ["-i", str(lab.directory / "inventory.constellation.yml")]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=ansible_env(), check=False)


def test_one_run_recovers_every_cluster_of_the_fleet(fleet, tmp_path):
    for lab in fleet:
        lab.break_control_plane()

    run = recover(fleet, tmp_path / "report.json")

    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    clusters = {c["cluster"].rsplit("-", 1)[0]: c for c in report["constellation_clusters"]}
    assert set(clusters) == {"fleet-a", "fleet-b"}
    for name, cluster in clusters.items():
        assert cluster["quorum"] and cluster["all_ready"], cluster
        nodes = {n["node"]: n["outcome"] for n in cluster["nodes"]}
        assert set(nodes) == {f"{name}-control-plane-{i}" for i in range(3)} | {f"{name}-worker-0"}, nodes
        assert nodes[f"{name}-worker-0"] == "rejoined"
        assert_every_control_plane_node_recovered(cluster)
    # The two leaders pushed at the same time: each cluster's push loop began before the other's ended.
    starts = sorted(c["push_loop_started_at"] for c in clusters.values())
    assert starts[1] - starts[0] < min(c["seconds_to_all_ready"] for c in clusters.values()), starts
    assert f"Constellation {clusters['fleet-a']['cluster']} (direct" in output
    assert not any((lab.directory / ".confidential-recovery.lock").exists() for lab in fleet)
    for lab in fleet:
        assert set(lab.control_plane_states().values()) == {"unlocked"}
