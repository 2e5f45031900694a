# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A healthy cluster attested before an outage: every running node's verification service (plain gRPC, port 30081,
what `constellation verify` asks) answers a nonce with its document, checked with the variant and reference values a
recovery uses, and with the cluster ID in PCR 15. A node of another cluster, or one whose measurement changed,
fails by name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from labdriver import running_lab

PLAYBOOKS = Path(__file__).parent / "playbooks"
CP = [f"conflab-control-plane-{i}" for i in range(3)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(
        tmp_path_factory, "lab-rehearsal", "127.20.22", 3, "--no-contrast", "--attestation", "qemu-vtpm"
    )


def audit(lab, tmp_path, *extra: str) -> dict:
    out = tmp_path / "audit.json"
    run = lab.run("-e", f"audit_file={out}", *extra, playbook=PLAYBOOKS / "running_node_audit.yml")
    assert run.rc == 0, run.output[-4000:]
    return json.loads(out.read_text())


def cluster_id(lab) -> str:
    return yaml.safe_load((lab.directory / "constellation-state.yaml").read_text())["clusterValues"]["clusterID"]


def failed_check(result: dict) -> str | None:
    return next((check["check"] for check in result["checks"] if check["verdict"] == "failed"), None)


def test_every_running_node_is_attested_with_the_cluster_id_in_pcr_15(lab, tmp_path):
    results = audit(lab, tmp_path)

    assert set(results) == set(CP)
    expected_pcr15 = hashlib.sha256(bytes(32) + hashlib.sha256(bytes.fromhex(cluster_id(lab))).digest()).hexdigest()
    for name, result in results.items():
        assert result["verdict"] == "passed", (name, result["msg"])
        assert result["source"].startswith("verification service 127.20.22.")
        assert result["evidence"]["measurements"]["15"] == expected_pcr15
    assert set(lab.control_plane_states().values()) == {"unlocked"}


def test_nodes_of_another_cluster_fail_the_measurements_check(lab, tmp_path):
    results = audit(lab, tmp_path, "-e", f"audit_cluster_id={'ab' * 32}")

    for name, result in results.items():
        assert result["verdict"] == "failed" and failed_check(result) == "measurements", (name, result)
        assert "at index 15" in result["msg"], result["msg"]


def test_a_node_whose_measurement_changed_is_named_and_the_others_pass(lab, tmp_path):
    lab.break_("--fault", f"{CP[0]}=wrong-measurement")
    try:
        results = audit(lab, tmp_path)
    finally:
        lab.repair("--nodes", CP[0])

    assert results[CP[0]]["verdict"] == "failed" and failed_check(results[CP[0]]) == "measurements"
    assert "at index 4" in results[CP[0]]["msg"], results[CP[0]]["msg"]
    assert [results[name]["verdict"] for name in CP[1:]] == ["passed", "passed"]
