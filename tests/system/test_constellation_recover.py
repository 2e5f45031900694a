# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The real recover.yml against the lab's Constellation control plane."""

from __future__ import annotations

import json
import re
import shutil

from labdriver import REPO
from leakcheck import constellation_secret_forms, leaked
from reporting import assert_every_control_plane_node_recovered, disk_uuids, outcomes


def test_recover_restores_quorum_with_fewest_keys_and_leaks_nothing(constellation_lab):
    lab = constellation_lab
    lab.break_control_plane()

    run = lab.run("-e", "constellation_recover_stop_at=quorum", verbosity=4)

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["constellation"]
    assert summary["quorum"] is True and summary["all_ready"] is True
    assert summary["keys_pushed"] == 3, summary  # floor(5/2)+1, nothing was up before
    by_outcome = sorted(outcomes(run).values())
    assert by_outcome.count("pushed") == 3 and by_outcome.count("self_healed") == 2, by_outcome
    assert set(lab.control_plane_states().values()) == {"unlocked"}
    # The rounds are printed live by the action plugin, before the task's own result line.
    live = re.search(r"^  conflab-control-plane-\d: \[\s*[\d.]+s\] round 1: no etcd quorum", run.output, re.M)
    assert live and live.start() < run.output.index("Wait for every node to become Ready")
    # The self-heal wait reports what it sees; Ansible's retry lines read as failures to a newcomer.
    assert "FAILED - RETRYING" not in run.output
    forms = constellation_secret_forms(lab.directory / "constellation-mastersecret.json", disk_uuids(lab))
    report_text = (lab.directory / "recovery-report.json").read_text()
    assert leaked(forms, run.output, report_text) == []


def test_rerun_is_idempotent(constellation_lab):
    lab = constellation_lab
    if set(lab.control_plane_states().values()) != {"unlocked"}:
        assert lab.run().rc == 0

    run = lab.run()

    assert run.rc == 0, run.output[-4000:]
    changed = run.recap_changed()
    assert changed and all(count == 0 for count in changed.values()), changed
    assert run.report["constellation"]["keys_pushed"] == 0


def test_check_mode_attests_but_sends_no_key(constellation_lab):
    lab = constellation_lab
    lab.break_control_plane()
    consoles_before = lab.consoles().count("Received recover call")

    run = lab.run(check=True)

    assert run.rc == 0, run.output[-4000:]
    assert "would_push" in run.output or "changed:" in run.output
    assert set(lab.control_plane_states().values()) == {"waiting"}
    assert lab.consoles().count("Received recover call") == consoles_before


def test_wrong_master_secret_fails_before_anything_is_sent(constellation_lab, tmp_path):
    lab = constellation_lab
    if set(lab.control_plane_states().values()) != {"waiting"}:
        lab.break_control_plane()
    wrong = tmp_path / "wrong-mastersecret.json"
    wrong.write_text(
        json.dumps(
            {
                "key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "salt": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
            }
        )
    )
    wrong.chmod(0o600)

    run = lab.run(
        "-e",
        f"constellation_recover_master_secret_file={wrong}",
        "-e",
        "constellation_recover_quorum_timeout=10",
        verbosity=4,
    )

    assert run.rc != 0
    assert "does not belong to this cluster" in run.output
    assert set(lab.control_plane_states().values()) == {"waiting"}
    assert "Received recover call" not in lab.consoles().split("Starting RecoveryServer")[-1]
    assert leaked(constellation_secret_forms(wrong, disk_uuids(lab)), run.output) == []


def test_wrong_master_secret_without_preflight_leaves_nodes_locked(constellation_lab, tmp_path):
    lab = constellation_lab
    lab.break_control_plane()
    wrong = tmp_path / "wrong-mastersecret.json"
    shutil.copy(lab.directory / "constellation-mastersecret.json", wrong)
    doc = json.loads(wrong.read_text())
    doc["key"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    wrong.write_text(json.dumps(doc))

    run = lab.run(
        "-e",
        f"constellation_recover_master_secret_file={wrong}",
        "-e",
        "constellation_recover_preflight_cluster_id=false",
        "-e",
        "constellation_recover_quorum_timeout=15",
    )

    assert run.rc != 0
    assert run.report["constellation"]["quorum"] is False
    assert "etcd quorum not restored" in run.output
    states = lab.control_plane_states()
    assert "unlocked" not in states.values(), states
    assert sorted(states.values()).count("failed") == 5, states  # every waiting node got the wrong key, none opened


def test_stop_at_all_pushes_every_waiting_node(constellation_lab):
    lab = constellation_lab
    lab.break_control_plane()

    run = lab.run("-e", "constellation_recover_stop_at=all")

    assert run.rc == 0, run.output[-4000:]
    assert_every_control_plane_node_recovered(run.report["constellation"])
    assert set(lab.control_plane_states().values()) == {"unlocked"}


def test_inline_master_secret_as_a_dictionary(constellation_lab):
    lab = constellation_lab
    if set(lab.control_plane_states().values()) != {"waiting"}:
        lab.break_control_plane()
    secret_file = lab.directory / "constellation-mastersecret.json"

    run = lab.run(
        "-e",
        "node_address=127.20.0.10",
        "-e",
        f"master_secret_path={secret_file}",
        playbook=REPO / "tests" / "system" / "playbooks" / "inline_master_secret.yml",
        verbosity=4,
    )

    assert run.rc == 0, run.output[-4000:]
    assert "is not JSON" not in run.output
    assert set(lab.control_plane_states().values()) == {"waiting"}
    assert leaked(constellation_secret_forms(secret_file, disk_uuids(lab)), run.output) == []


def test_a_missing_variable_is_named_before_anything_runs(constellation_lab):
    """The role's argument spec answers first, in words; no undefined-variable error from deeper down."""
    run = constellation_lab.run("-e", "constellation_recover_attestation=")

    assert run.rc != 0
    failures = " ".join(run.report["failures"])
    assert "constellation_recover_attestation" in failures, failures
    assert "is undefined" not in run.output and "Traceback" not in run.output
    assert run.report["constellation"] is None or run.report["constellation"]["keys_pushed"] == 0
