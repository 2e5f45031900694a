# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""coordinator_recover's main(): the Coordinator is required, and check mode proves the seed share decrypts and the
manifest authorizes its owner, checks what a healthy Coordinator serves, then sends nothing."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from contrast_workspace import write_workspace
from cryptography.hazmat.primitives.asymmetric import rsa
from kube_api_double import KubeApiDouble
from module_arguments import refuse

from ansible_collections.confidential.recovery.plugins.module_utils._contrast import _userapi
from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import GrpcError
from ansible_collections.confidential.recovery.plugins.modules import coordinator_recover


@pytest.fixture
def workspace(tmp_path):
    write_workspace(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=2048), b"s" * 64, b"t" * 32)
    return str(tmp_path)


def in_recovery_mode(_api):
    raise GrpcError(9, _userapi.RECOVERY_MODE)


def test_the_coordinator_is_required(run_module, workspace):
    result = run_module(coordinator_recover, {"workspace_dir": workspace, "attestation": "lab"})
    assert result["failed"] and "coordinator" in result["msg"]


def test_an_unknown_attestation_variant_is_refused(run_module, workspace):
    result = run_module(
        coordinator_recover, {"coordinator": "127.0.0.1", "workspace_dir": workspace, "attestation": "x"}
    )
    assert result["failed"] and "attestation" in result["msg"]


def test_check_mode_would_recover_a_coordinator_in_recovery_mode_and_sends_no_seed(run_module, workspace, monkeypatch):
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", in_recovery_mode)
    monkeypatch.setattr(_userapi.UserApi, "recover", refuse)
    args = {"coordinator": "127.0.0.1", "workspace_dir": workspace, "attestation": "lab"}
    result = run_module(coordinator_recover, args, check_mode=True)
    assert result["rc"] == 0 and not result.get("failed"), result["msg"]
    assert result["status"] == "would_recover" and result["changed"] is True
    assert result["msg"].startswith("would recover 127.0.0.1:1313")


def test_check_mode_names_a_seed_share_that_does_not_decrypt(run_module, workspace, monkeypatch, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    write_workspace(other, rsa.generate_private_key(public_exponent=65537, key_size=2048), b"s" * 64, b"t" * 32)
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", in_recovery_mode)
    args = {
        "coordinator": "127.0.0.1",
        "workspace_dir": workspace,
        "seedshare_owner_key": str(other / "seedshare-owner.pem"),
        "attestation": "lab",
    }
    result = run_module(coordinator_recover, args, check_mode=True)
    assert result["failed"] and "seed" in result["msg"]


def serving(manifest: dict):
    def get_manifests(_api):
        return SimpleNamespace(Manifests=[json.dumps(manifest).encode()], MeshCA=b"", RootCA=b"")

    return get_manifests


def test_check_mode_on_a_healthy_coordinator_that_serves_the_workspace_manifest_passes(
    run_module, workspace, monkeypatch
):
    manifest = json.loads((Path(workspace) / "manifest.json").read_text())
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", serving(manifest))
    monkeypatch.setattr(_userapi.UserApi, "recover", refuse)
    args = {"coordinator": "127.0.0.1", "workspace_dir": workspace, "attestation": "lab"}
    result = run_module(coordinator_recover, args, check_mode=True)
    assert not result.get("failed"), result["msg"]
    assert result["status"] == "already_recovered" and result["changed"] is False
    assert result["manifest_verified"] is True and result["seed_share_checked"] is True
    assert not (Path(workspace) / "verify").exists()


def test_check_mode_on_a_healthy_coordinator_with_another_manifest_fails(run_module, workspace, monkeypatch):
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", serving({"Policies": {}}))
    args = {"coordinator": "127.0.0.1", "workspace_dir": workspace, "attestation": "lab"}
    result = run_module(coordinator_recover, args, check_mode=True)
    assert result["failed"] and result["manifest_verified"] is False
    assert "serves a manifest that differs" in result["msg"]


@pytest.mark.parametrize("coordinator_state", ["stale", "ready"])
def test_check_mode_refuses_an_owner_key_the_manifest_does_not_authorize(
    run_module, workspace, monkeypatch, coordinator_state
):
    manifest_file = Path(workspace) / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest_file.write_text(json.dumps(dict(manifest, SeedshareOwnerPubKeys=["ab" * 270])))
    probe = in_recovery_mode if coordinator_state == "stale" else serving(manifest)
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", probe)
    args = {"coordinator": "127.0.0.1", "workspace_dir": workspace, "attestation": "lab"}
    result = run_module(coordinator_recover, args, check_mode=True)
    assert result["failed"] and "is not a seed-share owner" in result["msg"], result["msg"]


def coordinator_service(ip: str) -> dict:
    return {
        "spec": {"type": "LoadBalancer", "ports": [{"name": "userapi", "port": 1313}]},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}},
    }


def test_without_an_address_the_coordinator_is_found_through_its_service(run_module, workspace, monkeypatch, tmp_path):
    manifest = json.loads((Path(workspace) / "manifest.json").read_text())
    probed = []

    def get_manifests(api):
        probed.append(api.host)
        return serving(manifest)(api)

    monkeypatch.setattr(_userapi.UserApi, "get_manifests", get_manifests)
    answers = {"/api/v1/namespaces/contrast/services/coordinator": coordinator_service("127.0.0.9")}
    with KubeApiDouble(answers) as api:
        args = {
            "workspace_dir": workspace,
            "attestation": "lab",
            "coordinator_namespace": "contrast",
            "kubeconfig": api.kubeconfig(tmp_path),
        }
        result = run_module(coordinator_recover, args, check_mode=True)
    assert not result.get("failed"), result["msg"]
    assert result["coordinator"] == "127.0.0.9:1313" and set(probed) == {"127.0.0.9"}
    assert result["coordinator_found_by"] == "the load balancer of Service contrast/coordinator"


def test_without_an_address_or_a_service_nothing_is_dialled(run_module, workspace, monkeypatch, tmp_path):
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", refuse)
    with KubeApiDouble({}) as api:
        args = {"workspace_dir": workspace, "attestation": "lab", "kubeconfig": api.kubeconfig(tmp_path)}
        result = run_module(coordinator_recover, args)
    assert result["failed"] and "Service default/coordinator does not exist" in result["msg"], result["msg"]


def test_a_private_cluster_without_a_forwarder_pod_names_the_three_ways_and_dials_nothing(
    run_module, workspace, monkeypatch, tmp_path
):
    monkeypatch.setattr(_userapi.UserApi, "get_manifests", refuse)
    answers = {
        "/api/v1/namespaces/contrast/services/coordinator": {"spec": {"type": "ClusterIP"}, "status": {}},
        "/api/v1/namespaces/contrast/pods": {"items": []},
    }
    with KubeApiDouble(answers) as api:
        args = {
            "workspace_dir": workspace,
            "attestation": "lab",
            "coordinator_namespace": "contrast",
            "kubeconfig": api.kubeconfig(tmp_path),
        }
        result = run_module(coordinator_recover, args)
    assert result["failed"], result
    assert "has no load-balancer address yet; reach the Coordinator one of three ways" in result["msg"]
    assert "No Ready forwarder pod port-forwarder-coordinator (by name or label) in namespace contrast" in result["msg"]


def test_an_address_and_a_port_forward_together_are_refused(run_module, workspace):
    args = {"coordinator": "127.0.0.1", "port_forward": {"pod": "x"}, "workspace_dir": workspace, "attestation": "lab"}
    result = run_module(coordinator_recover, args)
    assert result["failed"] and "mutually exclusive" in result["msg"]
