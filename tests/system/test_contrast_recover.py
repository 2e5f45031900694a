# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The real recover.yml against the lab's Contrast Coordinator and Kubernetes API face."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from labdriver import running_lab
from leakcheck import OAEP, leaked, owner_key, seed_and_salt
from leakcheck import contrast_secret_forms as secret_forms

CONTRAST_ONLY = ("-e", "recover_constellation=false")


@pytest.fixture(scope="module")
def contrast_lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-contrast", "127.20.4", 3)


def workspace(lab):
    return lab.directory / "contrast"


def coordinator_state(lab) -> str:
    return lab.status()["coordinator"]["state"]


def restart_coordinator(lab) -> None:
    lab.break_("--reboot", "none", "--restart-coordinator")
    lab.wait_for(lambda: coordinator_state(lab) == "stale", "coordinator in recovery mode")


def workspace_copy(lab, tmp_path):
    ws = tmp_path / "workspace"
    shutil.copytree(workspace(lab), ws)
    shutil.rmtree(ws / "verify", ignore_errors=True)
    return ws


def rewrite_share(ws, encrypt_to, seed: bytes) -> None:
    doc = json.loads((ws / "seed-shares.json").read_text())
    public_der = encrypt_to.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    doc["SeedShares"] = [
        {"PublicKey": public_der.hex(), "EncryptedSeed": base64.b64encode(encrypt_to.encrypt(seed, OAEP)).decode()}
    ]
    (ws / "seed-shares.json").write_text(json.dumps(doc, indent=2))


def test_recover_coordinator_restart_workloads_and_verify(contrast_lab):
    lab = contrast_lab
    restart_coordinator(lab)

    run = lab.run(verbosity=4)

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["contrast"]
    assert summary["recovered"] is True and summary["mesh_ca_changed"] is True
    assert summary["manifest_verified"] is True
    restarted = {w["name"] for w in summary["workloads_restarted"]}
    assert {"web", "emoji", "db"} <= restarted, restarted
    assert not restarted & {"coordinator", "plain-nginx", "contrast-node-installer"}, restarted
    assert coordinator_state(lab) == "ready"
    assert (workspace(lab) / "verify" / "mesh-ca.pem").exists()
    assert leaked(secret_forms(workspace(lab)), run.output, (lab.directory / "recovery-report.json").read_text()) == []


def test_rerun_is_idempotent(contrast_lab):
    lab = contrast_lab
    if coordinator_state(lab) != "ready":
        assert lab.run(*CONTRAST_ONLY).rc == 0

    run = lab.run(*CONTRAST_ONLY)

    assert run.rc == 0, run.output[-4000:]
    assert run.recap_changed().get("localhost") == 0, run.recap_changed()
    assert run.report["contrast"]["status"] == "already_recovered"
    assert run.report["contrast"]["manifest_verified"] is True


def test_without_an_address_the_coordinator_is_found_through_its_service(contrast_lab):
    lab = contrast_lab
    restart_coordinator(lab)

    run = lab.run(*CONTRAST_ONLY, "-e", "contrast_recover_coordinator=", "-e", "recover_contrast=true")

    assert run.rc == 0, run.output[-4000:]
    summary = run.report["contrast"]
    assert summary["recovered"] is True and summary["manifest_verified"] is True
    assert summary["coordinator"] == "127.20.4.3:1313"
    assert summary["coordinator_found_by"] == "the load balancer of Service contrast-demo/coordinator"
    assert "found through the load balancer of Service contrast-demo/coordinator" in " ".join(run.output.split())
    assert coordinator_state(lab) == "ready"


def test_check_mode_sends_nothing(contrast_lab):
    lab = contrast_lab
    restart_coordinator(lab)

    run = lab.run(*CONTRAST_ONLY, check=True)

    assert run.rc == 0, run.output[-4000:]
    assert coordinator_state(lab) == "stale"


def test_unauthorized_seedshare_key_is_permission_denied(contrast_lab, tmp_path):
    lab = contrast_lab
    if coordinator_state(lab) != "stale":
        restart_coordinator(lab)
    ws = workspace_copy(lab, tmp_path)
    seed, _ = seed_and_salt(ws)
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    rewrite_share(ws, intruder.public_key(), seed)
    (ws / "seedshare-owner.pem").write_bytes(
        intruder.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )

    run = lab.run(*CONTRAST_ONLY, "-e", f"contrast_recover_workspace_dir={ws}")

    assert run.rc != 0
    assert "PermissionDenied" in run.output and "seedshare owner" in run.output
    assert coordinator_state(lab) == "stale"


def test_tampered_seed_share_is_rejected_and_nothing_is_lost(contrast_lab, tmp_path):
    lab = contrast_lab
    if coordinator_state(lab) != "stale":
        restart_coordinator(lab)
    ws = workspace_copy(lab, tmp_path)
    rewrite_share(ws, owner_key(ws).public_key(), bytes(64))

    run = lab.run(*CONTRAST_ONLY, "-e", f"contrast_recover_workspace_dir={ws}")

    assert run.rc != 0
    assert "latest transition signature is invalid" in run.output
    assert coordinator_state(lab) == "stale"

    corrupted = workspace_copy(lab, tmp_path / "corrupted")
    doc = json.loads((corrupted / "seed-shares.json").read_text())
    raw = bytearray(base64.b64decode(doc["SeedShares"][0]["EncryptedSeed"]))
    raw[10] ^= 0xFF
    doc["SeedShares"][0]["EncryptedSeed"] = base64.b64encode(bytes(raw)).decode()
    (corrupted / "seed-shares.json").write_text(json.dumps(doc))

    run = lab.run(*CONTRAST_ONLY, "-e", f"contrast_recover_workspace_dir={corrupted}")

    assert run.rc != 0
    assert "seed-shares.json" in run.output
    assert coordinator_state(lab) == "stale"

    run = lab.run(*CONTRAST_ONLY)

    assert run.rc == 0, run.output[-4000:]
    assert coordinator_state(lab) == "ready"
    assert run.report["contrast"]["manifest_verified"] is True


def test_attestation_info_audits_the_coordinator_and_sends_nothing(contrast_lab, tmp_path):
    lab = contrast_lab
    manifest = workspace(lab) / "manifest.json"
    other = json.loads(manifest.read_text())
    other["Policies"] = {"ab" * 32: {"Role": "coordinator", "SANs": ["coordinator"]}}
    other_manifest = tmp_path / "manifest.json"
    other_manifest.write_text(json.dumps(other))
    state_before = coordinator_state(lab)
    coordinator = json.loads((lab.directory / "lab.json").read_text())["coordinator"]

    run = lab.run(
        "-e",
        f"coordinator_address={coordinator['ip']}",
        "-e",
        f"manifest={manifest}",
        "-e",
        f"other_manifest={other_manifest}",
        playbook=Path(__file__).parent / "playbooks" / "coordinator_audit.yml",
    )

    assert run.rc == 0, run.output[-4000:]
    assert coordinator_state(lab) == state_before


def test_an_impostor_under_an_old_manifest_gets_no_seed(contrast_lab):
    """A manifest of Contrast v0.7 names no Coordinator policy, and the peer on the Coordinator's address presents a
    workload's policy hash: the run refuses before it dials, and with the hash given explicitly, the impostor fails
    attestation. The Coordinator stays in recovery mode throughout: no seed went out."""
    lab = contrast_lab
    restart_coordinator(lab)
    lab.break_("--reboot", "none", "--manifest-format", "names", "--coordinator-presents", "web")
    identity = json.loads((lab.directory / "contrast-lab" / "identity.json").read_text())
    try:
        refused = lab.run(*CONTRAST_ONLY)

        assert refused.rc != 0
        assert "names no Coordinator policy" in refused.output and "Give coordinator_policy_hash" in refused.output
        assert coordinator_state(lab) == "stale"

        explicit = lab.run(*CONTRAST_ONLY, "-e", f"contrast_recover_coordinator_policy_hash={identity['policy_hash']}")

        assert explicit.rc != 0
        assert "wrong policy hash for Coordinator" in explicit.output
        assert coordinator_state(lab) == "stale"
    finally:
        lab.repair("--coordinator")

    recovered = lab.run(*CONTRAST_ONLY)
    assert recovered.rc == 0, recovered.output[-4000:]
    assert coordinator_state(lab) == "ready"
