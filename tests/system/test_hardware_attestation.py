# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Real validators through the real playbook: the lab's recovery servers attest with a software vTPM
(conflab up --attestation qemu-vtpm), or with that vTPM vouched for by SEV-SNP reports from a lab AMD root
(--attestation snp, checked by the azure-sev-snp validator), and recover.yml checks them against the lab's
constellation-conf.yaml. In the snp lab the Contrast Coordinator presents SEV-SNP evidence too, checked against the
workspace manifest's ReferenceValues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from labdriver import running_lab
from leakcheck import constellation_secret_forms, leaked
from reporting import assert_every_control_plane_node_recovered, disk_uuids, node, outcomes

RECEIVED = "Received recover call"
PLAYBOOKS = Path(__file__).parent / "playbooks"
QUICK = (
    "-e",
    "constellation_recover_call_timeout=5",
    "-e",
    "constellation_recover_heal_timeout=8",
    "-e",
    "constellation_recover_quorum_timeout=30",
)


def _lab(tmp_path_factory, name: str, prefix: str, attestation: str, contrast: bool = False):
    yield from running_lab(
        tmp_path_factory, name, prefix, 3, *(() if contrast else ("--no-contrast",)), "--attestation", attestation
    )


@pytest.fixture(scope="module")
def vtpm_lab(tmp_path_factory, collection_installed):
    yield from _lab(tmp_path_factory, "vtpm", "127.20.6", "qemu-vtpm")


def test_qemu_vtpm_nodes_are_attested_and_recovered(vtpm_lab):
    vtpm_lab.break_control_plane()

    run = vtpm_lab.run("-e", "constellation_recover_stop_at=all", verbosity=4)

    assert run.rc == 0, run.output[-4000:]
    assert_every_control_plane_node_recovered(run.report["constellation"])
    assert "attestation: lab accepts" not in run.output, "the lab validator must not have been used"
    forms = constellation_secret_forms(vtpm_lab.directory / "constellation-mastersecret.json", disk_uuids(vtpm_lab))
    assert leaked(forms, run.output, (vtpm_lab.directory / "recovery-report.json").read_text()) == []


def test_a_node_whose_measurements_differ_gets_no_key(vtpm_lab, tmp_path):
    if set(vtpm_lab.control_plane_states().values()) != {"unlocked"}:
        assert vtpm_lab.run("-e", "constellation_recover_stop_at=all").rc == 0
    conf = yaml.safe_load((vtpm_lab.directory / "constellation-conf.yaml").read_text())
    conf["attestation"]["qemuVTPM"]["measurements"][4]["expected"] = "ab" * 32
    tampered = tmp_path / "constellation-conf.yaml"
    tampered.write_text(yaml.safe_dump(conf))
    vtpm_lab.break_control_plane()

    run = vtpm_lab.run(
        "-e", f"constellation_recover_attestation_config={tampered}", "-e", "constellation_recover_quorum_timeout=8"
    )

    assert run.rc != 0
    assert "untrusted measurement value" in run.output and "at index 4" in run.output
    assert run.report["constellation"]["keys_pushed"] == 0
    assert set(vtpm_lab.control_plane_states().values()) == {"waiting"}, "no node may have received a key"


@pytest.fixture(scope="module")
def snp_lab(tmp_path_factory, collection_installed):
    yield from _lab(tmp_path_factory, "snp", "127.20.7", "snp", contrast=True)


def test_snp_nodes_are_attested_through_the_lab_root_given_as_trust_anchor(snp_lab):
    snp_lab.break_control_plane()

    run = snp_lab.run("-e", "constellation_recover_stop_at=all")

    assert run.rc == 0, run.output[-4000:]
    assert_every_control_plane_node_recovered(run.report["constellation"])
    assert "instead of AMD's pinned ARKs" in run.output, "the explicit trust anchor must be announced"
    assert "attestation: lab accepts" not in run.output


def test_without_the_trust_anchor_the_lab_root_is_refused_and_nothing_is_sent(snp_lab):
    snp_lab.break_control_plane()
    before = snp_lab.consoles().count(RECEIVED)

    run = snp_lab.run("-e", "constellation_recover_attestation_trust_anchor=", *QUICK)

    assert run.rc != 0
    assert run.report["constellation"]["keys_pushed"] == 0
    assert "SEV-SNP evidence: the SEV-Milan that came with the evidence: the signature does not verify" in run.output
    assert snp_lab.consoles().count(RECEIVED) == before
    assert set(snp_lab.control_plane_states().values()) == {"waiting"}


def test_attestation_info_audits_a_waiting_node_and_sends_nothing(snp_lab):
    if set(snp_lab.control_plane_states().values()) != {"waiting"}:
        snp_lab.break_control_plane()
    before = snp_lab.consoles().count(RECEIVED)

    run = snp_lab.run(
        "-e",
        "node_address=127.20.7.10",
        "-e",
        f"lab_dir={snp_lab.directory}",
        playbook=PLAYBOOKS / "attestation_audit.yml",
    )

    assert run.rc == 0, run.output[-4000:]
    assert snp_lab.consoles().count(RECEIVED) == before
    assert set(snp_lab.control_plane_states().values()) == {"waiting"}


def test_a_node_presenting_a_wrong_measurement_gets_no_key_and_the_report_names_it(snp_lab):
    if set(snp_lab.control_plane_states().values()) != {"unlocked"}:
        assert snp_lab.run("-e", "constellation_recover_stop_at=all").rc == 0
    wrong = "conflab-control-plane-0"
    snp_lab.break_("--reboot", "all", "--fault", f"{wrong}=wrong-measurement")
    before = snp_lab.directory.joinpath("nodes", wrong, "console.log").read_text().count(RECEIVED)

    run = snp_lab.run("-e", "constellation_recover_stop_at=all", *QUICK)

    assert run.rc != 0
    report = node(run, wrong)
    assert report["outcome"] == "failed" and report["keys"] == 0, report
    assert "untrusted measurement value" in report["error"] and "at index 4" in report["error"], report
    assert run.report["constellation"]["quorum"] is True and run.report["constellation"]["keys_pushed"] == 2
    assert snp_lab.directory.joinpath("nodes", wrong, "console.log").read_text().count(RECEIVED) == before
    assert snp_lab.control_plane_states()[wrong] == "waiting", "neither the push nor the rejoin may unlock it"

    snp_lab.repair("--nodes", wrong)
    assert snp_lab.run("-e", "constellation_recover_stop_at=all").rc == 0


def test_a_node_presenting_malformed_evidence_fails_alone_and_the_others_are_recovered(snp_lab):
    if set(snp_lab.control_plane_states().values()) != {"unlocked"}:
        assert snp_lab.run("-e", "constellation_recover_stop_at=all").rc == 0
    hostile = "conflab-control-plane-1"
    snp_lab.break_("--reboot", "all", "--fault", f"{hostile}=malformed-evidence")
    before = snp_lab.directory.joinpath("nodes", hostile, "console.log").read_text().count(RECEIVED)

    run = snp_lab.run("-e", "constellation_recover_stop_at=all", *QUICK)

    assert run.rc != 0, "a node that could not be recovered fails the run, after the others are recovered"
    report = node(run, hostile)
    assert report["outcome"] == "failed" and report["keys"] == 0, report
    assert "attestation failed, nothing sent" in report["error"] and "PCR values are not a map" in report["error"], (
        report
    )
    others = {name: outcome for name, outcome in outcomes(run).items() if name != hostile and "control-plane" in name}
    assert set(others.values()) == {"pushed"}, others
    assert run.report["constellation"]["quorum"] is True and run.report["constellation"]["keys_pushed"] == 2
    assert snp_lab.directory.joinpath("nodes", hostile, "console.log").read_text().count(RECEIVED) == before
    assert snp_lab.control_plane_states()[hostile] == "waiting", "neither the push nor the rejoin may unlock it"

    snp_lab.repair("--nodes", hostile)
    assert snp_lab.run("-e", "constellation_recover_stop_at=all").rc == 0


def coordinator_state(lab) -> str:
    return lab.status()["coordinator"]["state"]


def test_the_snp_coordinator_is_attested_against_the_manifest_and_recovered(snp_lab):
    snp_lab.break_("--reboot", "none", "--restart-coordinator")
    snp_lab.wait_for(lambda: coordinator_state(snp_lab) == "stale", "coordinator in recovery mode")

    run = snp_lab.run("-e", "recover_constellation=false")

    assert run.rc == 0, run.output[-4000:]
    assert run.report["contrast"]["status"] == "recovered"
    assert "the Coordinator's evidence is checked against the root in attestation_trust_anchor" in run.output
    assert coordinator_state(snp_lab) == "ready"


def test_a_coordinator_whose_measurement_the_manifest_does_not_trust_gets_no_seed(snp_lab, tmp_path):
    import shutil

    workspace = tmp_path / "contrast"
    shutil.copytree(snp_lab.directory / "contrast", workspace)
    shutil.rmtree(workspace / "verify", ignore_errors=True)
    manifest = json.loads((workspace / "manifest.json").read_text())
    manifest["ReferenceValues"]["snp"][0]["TrustedMeasurement"] = "00" * 48
    (workspace / "manifest.json").write_text(json.dumps(manifest))
    snp_lab.break_("--reboot", "none", "--restart-coordinator")
    snp_lab.wait_for(lambda: coordinator_state(snp_lab) == "stale", "coordinator in recovery mode")

    run = snp_lab.run("-e", "recover_constellation=false", "-e", f"contrast_recover_workspace_dir={workspace}")

    assert run.rc != 0
    assert (
        "no ReferenceValues.snp entry accepts the evidence" in run.output and "the launch measurement is" in run.output
    )
    assert coordinator_state(snp_lab) == "stale", "the seed must not have been sent"
    assert snp_lab.run("-e", "recover_constellation=false").rc == 0
