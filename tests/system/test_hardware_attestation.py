# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A real validator through the real playbook: the lab's recovery servers attest with a software vTPM
(conflab up --attestation qemu-vtpm), and recover.yml checks the quotes against the lab's constellation-conf.yaml."""

from __future__ import annotations

import pytest
import yaml

from conftest import start_lab
from leakcheck import constellation_secret_forms, leaked
from reporting import disk_uuids, outcomes


@pytest.fixture(scope="module")
def vtpm_lab(tmp_path_factory, collection_installed):
    lab = start_lab(tmp_path_factory, "vtpm", "127.20.6", 3, "--no-contrast", "--attestation", "qemu-vtpm")
    try:
        yield lab
    finally:
        lab.down()


def test_qemu_vtpm_nodes_are_attested_and_recovered(vtpm_lab):
    vtpm_lab.break_control_plane()

    run = vtpm_lab.run("-e", "constellation_recover_stop_at=all", verbosity=4)

    assert run.rc == 0, run.output[-4000:]
    assert run.report["constellation"]["keys_pushed"] == 3
    assert set(outcomes(run).values()) >= {"pushed"}
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

    run = vtpm_lab.run("-e", f"constellation_recover_attestation_config={tampered}",
                       "-e", "constellation_recover_quorum_timeout=8")

    assert run.rc != 0
    assert "untrusted measurement value" in run.output and "at index 4" in run.output
    assert run.report["constellation"]["keys_pushed"] == 0
    assert set(vtpm_lab.control_plane_states().values()) == {"waiting"}, "no node may have received a key"
