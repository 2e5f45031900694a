# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A private cluster: the Coordinator's Service has no load-balancer address, and nobody runs kubectl. The real
recover.yml reaches the Coordinator through a port-forward (the kubernetes client's pods/portforward WebSocket, which
the lab's API serves) to the forwarder pod of Contrast's guide, created by the role when allowed, and removed after.
Attestation runs through the tunnel: a Coordinator that presents another policy gets nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client, config
from labdriver import running_lab

CONTRAST_ONLY = ("-e", "recover_constellation=false")
NAMESPACE = "contrast-demo"
FORWARDER = "port-forwarder-coordinator"
PLAYBOOKS = Path(__file__).parent / "playbooks"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-port-forward", "127.20.23", 3, "--coordinator-service", "internal")


def coordinator_state(lab) -> str:
    return lab.status()["coordinator"]["state"]


def restart_coordinator(lab) -> None:
    if coordinator_state(lab) != "stale":
        lab.break_("--reboot", "none", "--restart-coordinator")
        lab.wait_for(lambda: coordinator_state(lab) == "stale", "coordinator in recovery mode")


def forwarder_pods(lab) -> list[str]:
    api = client.CoreV1Api(config.new_client_from_config(str(lab.directory / "constellation-admin.conf")))
    return [p.metadata.name for p in api.list_namespaced_pod(NAMESPACE).items if p.metadata.name.startswith(FORWARDER)]


def words(run) -> str:
    return " ".join(run.output.split())


def test_the_lab_has_no_load_balancer_address_and_no_forwarder(lab):
    variables = (lab.directory / "recover-vars.yml").read_text()
    assert "contrast_recover_coordinator: ''" in variables
    assert forwarder_pods(lab) == []


def test_check_mode_creates_nothing_and_sends_nothing(lab):
    restart_coordinator(lab)

    run = lab.run(*CONTRAST_ONLY, check=True)

    assert run.rc == 0, run.output[-4000:]
    assert run.report["contrast"]["status"] == "would_create_forwarder"
    assert f"would create pod {NAMESPACE}/{FORWARDER}" in run.report["contrast"]["coordinator_found_by"]
    assert "would be created (check mode: nothing was created, nothing sent)" in words(run)
    assert forwarder_pods(lab) == []
    assert coordinator_state(lab) == "stale"


def test_a_forwarder_pod_that_never_becomes_ready_is_a_clear_error_within_the_deadline(lab):
    restart_coordinator(lab)
    lab.break_("--new-pods", "unschedulable")
    try:
        run = lab.run(*CONTRAST_ONLY, "-e", "contrast_recover_forwarder_wait_timeout=4")
    finally:
        lab.repair("--new-pods")

    assert run.rc != 0
    error = run.report["contrast"]["error"]
    assert f"pod {NAMESPACE}/{FORWARDER} did not become Ready within 4 s" in error, error
    assert "PodScheduled Unschedulable: 0/4 nodes are available" in error and "removed it again" in error
    assert run.seconds < 60
    assert forwarder_pods(lab) == []
    assert coordinator_state(lab) == "stale"


def test_a_coordinator_presenting_a_foreign_policy_through_the_tunnel_gets_nothing(lab):
    restart_coordinator(lab)
    lab.break_("--coordinator-presents", "web")
    try:
        run = lab.run(*CONTRAST_ONLY)
    finally:
        lab.repair("--coordinator")

    assert run.rc != 0
    error = run.report["contrast"]["error"]
    assert "port-forward through the Kubernetes API" in error and "policy" in error, error
    assert coordinator_state(lab) == "stale"
    assert forwarder_pods(lab) == [], "the pod this run created must be removed after a failure too"


def test_a_recovery_through_a_pod_the_role_created_and_removed(lab):
    restart_coordinator(lab)

    run = lab.run(*CONTRAST_ONLY)

    assert run.rc == 0, run.output[-4000:]
    contrast = run.report["contrast"]
    assert contrast["recovered"] is True and contrast["manifest_verified"] is True
    assert contrast["coordinator_found_by"] == (
        f"pod {NAMESPACE}/{FORWARDER} port 1313 (port-forward through the Kubernetes API)"
    )
    assert contrast["forwarder"] == {
        "pod": FORWARDER, "created": True, "removed": True, "left_behind": False, "error": None
    }  # fmt: skip
    assert f"Forwarder pod {FORWARDER}: created by this run, removed" in words(run)
    assert forwarder_pods(lab) == []
    assert coordinator_state(lab) == "ready"


def test_a_recovery_through_a_forwarder_pod_that_already_exists(lab):
    restart_coordinator(lab)
    kept = lab.run(*CONTRAST_ONLY, "-e", "contrast_recover_keep_forwarder=true")
    assert kept.rc == 0, kept.output[-4000:]
    assert forwarder_pods(lab) == [FORWARDER]
    restart_coordinator(lab)

    run = lab.run(*CONTRAST_ONLY, "-e", "contrast_recover_create_forwarder=false")

    assert run.rc == 0, run.output[-4000:]
    contrast = run.report["contrast"]
    assert contrast["recovered"] is True and contrast["forwarder"] is None
    assert contrast["coordinator_found_by"].startswith(f"pod {NAMESPACE}/{FORWARDER} port 1313")
    assert forwarder_pods(lab) == [FORWARDER], "a pod this run did not create is left alone"
    assert coordinator_state(lab) == "ready"
    report = json.loads((lab.directory / "recovery-report.json").read_text())
    assert report["contrast"]["status"] == "recovered"


def test_the_coordinator_restart_drill_recovers_through_the_port_forward_and_says_so(lab):
    if coordinator_state(lab) != "ready":
        assert lab.run(*CONTRAST_ONLY).rc == 0

    run = lab.run(
        "-e", f"drill_lab_dir={lab.directory}", "-e", "drill_scenario=coordinator-restart",
        playbook="confidential.recovery.drill",
    )  # fmt: skip

    assert run.rc == 0, run.output[-4000:]
    assert "Drill coordinator-restart: PASSED" in words(run)
    drill = json.loads((lab.directory / "drills" / "drill-report.json").read_text())
    coordinator = next(stage for stage in drill["stages"] if stage["stage"] == "coordinator")
    assert coordinator["detail"] == (
        f"reached through pod {NAMESPACE}/{FORWARDER} port 1313 (port-forward through the Kubernetes API)"
    )
    assert forwarder_pods(lab) == [FORWARDER], "the pod kept by the test before is left as it was"


def test_attestation_info_attests_the_coordinator_through_the_port_forward(lab, tmp_path):
    audit = tmp_path / "audit.json"

    run = lab.run("-e", f"audit_file={audit}", playbook=PLAYBOOKS / "coordinator_audit_port_forward.yml")

    assert run.rc == 0, run.output[-4000:]
    verdict = json.loads(audit.read_text())
    assert verdict["verdict"] == "passed", verdict["msg"]
    assert verdict["source"] == (
        f"endpoint pod {NAMESPACE}/{FORWARDER} port 1313 (port-forward through the Kubernetes API)"
    )
