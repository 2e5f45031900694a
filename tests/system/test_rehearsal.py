# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A healthy cluster attested before an outage: every running node's verification service (plain gRPC, port 30081,
what `constellation verify` asks) answers a nonce with its document, checked with the variant and reference values a
recovery uses, and with the cluster ID in PCR 15. A node of another cluster, or one whose measurement changed,
fails by name. The rehearse playbook adds the master secret, the seed share and the Kubernetes API, and fails naming
the file of another cluster or deployment; it sends no key and no seed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from labdriver import running_lab

PLAYBOOKS = Path(__file__).parent / "playbooks"
REHEARSE = "confidential.recovery.rehearse"
CP = [f"conflab-control-plane-{i}" for i in range(3)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-rehearsal", "127.20.22", 3, "--attestation", "qemu-vtpm")


def audit(lab, tmp_path, *extra: str) -> dict:
    out = tmp_path / "audit.json"
    run = lab.run("-e", f"audit_file={out}", *extra, playbook=PLAYBOOKS / "running_node_audit.yml")
    assert run.rc == 0, run.output[-4000:]
    return json.loads(out.read_text())


def rehearse(lab, tmp_path, *extra: str):
    report = tmp_path / "rehearsal-report.json"
    return lab.run("-e", f"recovery_report_rehearsal_file={report}", *extra, playbook=REHEARSE, report=report)


def assert_untouched(lab) -> None:
    """Nothing was sent: every node still runs unlocked and the Coordinator was never asked to recover."""
    assert set(lab.control_plane_states().values()) == {"unlocked"}
    assert lab.status()["coordinator"]["state"] == "ready"


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


def test_the_rehearsal_of_a_healthy_cluster_passes_every_check(lab, tmp_path):
    run = rehearse(lab, tmp_path)

    assert run.rc == 0, run.output[-4000:]
    checks = {(c["scope"].split()[0], c["check"], c["target"]): c["verdict"] for c in run.report["checks"]}
    assert [checks[("constellation", "attestation", name)] for name in CP] == ["passed"] * 3
    for check in ("kubernetes_api", "master_secret"):
        assert [v for (scope, name, _), v in checks.items() if name == check] == ["passed"], checks
    assert [v for (scope, name, _), v in checks.items() if scope == "contrast"] == ["passed", "passed"], checks
    assert run.report["failures"] == []
    assert_untouched(lab)


@pytest.mark.parametrize(
    "fault, named",
    [
        ("foreign-master-secret", "master_secret {dir}/constellation-mastersecret.json: the master secret does not "
         "belong to this cluster"),
        ("foreign-seed-shares", "contrast coordinator 127.20.22.3:1313: no matching seed share found in "
         "{dir}/contrast/seed-shares.json"),
    ],
)  # fmt: skip
def test_the_rehearsal_fails_naming_a_secret_of_another_cluster_or_deployment(lab, tmp_path, fault, named):
    lab.break_("--reboot", "none", "--workspace", fault)
    try:
        run = rehearse(lab, tmp_path)
    finally:
        lab.repair("--workspace")

    assert run.rc != 0
    assert len(run.report["failures"]) == 1, run.report["failures"]
    assert named.format(dir=lab.directory) in run.report["failures"][0]
    assert f"Rehearsal failed: {run.report['failures'][0][:60]}" in " ".join(run.output.split())
    assert_untouched(lab)


# Last in the file: the repair boots the node again, locked.
def test_a_node_whose_measurement_changed_is_named_and_the_others_pass(lab, tmp_path):
    lab.break_("--fault", f"{CP[0]}=wrong-measurement")
    try:
        results = audit(lab, tmp_path)
        rehearsal = rehearse(lab, tmp_path)
    finally:
        lab.repair("--nodes", CP[0])

    assert results[CP[0]]["verdict"] == "failed" and failed_check(results[CP[0]]) == "measurements"
    assert "at index 4" in results[CP[0]]["msg"], results[CP[0]]["msg"]
    assert [results[name]["verdict"] for name in CP[1:]] == ["passed", "passed"]
    assert rehearsal.rc != 0
    assert [f for f in rehearsal.report["failures"]] == [
        f"constellation {rehearsal.report['constellation_clusters'][0]['cluster']} attestation {CP[0]}: measurements: "
        + results[CP[0]]["msg"]
    ]
