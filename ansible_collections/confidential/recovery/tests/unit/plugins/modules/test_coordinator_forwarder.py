# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""coordinator_forwarder's main() against a Kubernetes API double: no pod where a load balancer or a forwarder
already serves, nothing written in check mode, and never a pod this collection did not create deleted."""

from __future__ import annotations

from kube_api_double import KubeApiDouble
from kubernetes.config import kube_config

from ansible_collections.confidential.recovery.plugins.modules import coordinator_forwarder

SERVICE = "/api/v1/namespaces/contrast/services/coordinator"
PODS = "/api/v1/namespaces/contrast/pods"


def service(ingress: list) -> dict:
    return {"spec": {"ports": [{"port": 1313}]}, "status": {"loadBalancer": {"ingress": ingress}}}


def test_a_service_with_a_load_balancer_needs_no_forwarder(run_module, tmp_path):
    with KubeApiDouble({SERVICE: service([{"ip": "203.0.113.7"}])}) as api:
        result = run_module(coordinator_forwarder, {"namespace": "contrast", "kubeconfig": api.kubeconfig(tmp_path)})
        assert api.writes() == []
    assert not result.get("failed"), result["msg"]
    assert result["needed"] is False and result["changed"] is False
    assert "203.0.113.7:1313" in result["msg"]


def test_check_mode_says_what_it_would_create_and_writes_nothing(run_module, tmp_path):
    with KubeApiDouble({SERVICE: service([]), PODS: {"items": []}}) as api:
        args = {"namespace": "contrast", "kubeconfig": api.kubeconfig(tmp_path)}
        result = run_module(coordinator_forwarder, args, check_mode=True)
        assert api.writes() == []
    assert result["changed"] is True and result["created"] is False
    assert result["manifest"]["spec"]["containers"][0]["args"][-1] == "TCP:coordinator:1313"
    assert result["msg"].startswith("would create pod contrast/port-forwarder-coordinator")


def test_a_ready_forwarder_is_used_as_it_is(run_module, tmp_path):
    ready = {
        "metadata": {"name": "port-forwarder-coordinator"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    with KubeApiDouble({SERVICE: service([]), PODS: {"items": [ready]}}) as api:
        result = run_module(coordinator_forwarder, {"namespace": "contrast", "kubeconfig": api.kubeconfig(tmp_path)})
        assert api.writes() == []
    assert result["changed"] is False and result["created"] is False and result["pod"] == "port-forwarder-coordinator"


def test_a_pod_this_collection_did_not_create_is_never_deleted(run_module, tmp_path):
    theirs = {"metadata": {"name": "port-forwarder-coordinator", "labels": {"app.kubernetes.io/name": "x"}}}
    with KubeApiDouble({PODS + "/port-forwarder-coordinator": theirs}) as api:
        args = {"namespace": "contrast", "state": "absent", "kubeconfig": api.kubeconfig(tmp_path)}
        result = run_module(coordinator_forwarder, args)
        assert api.writes() == []
    assert result["changed"] is False and "left alone" in result["msg"]


def test_a_pod_with_labels_that_are_not_a_mapping_is_not_ours(run_module, tmp_path):
    odd = {"metadata": {"name": "port-forwarder-coordinator", "labels": ["app.kubernetes.io/managed-by"]}}
    with KubeApiDouble({PODS + "/port-forwarder-coordinator": odd}) as api:
        args = {"namespace": "contrast", "state": "absent", "kubeconfig": api.kubeconfig(tmp_path)}
        checked = run_module(coordinator_forwarder, args, check_mode=True)
        result = run_module(coordinator_forwarder, args)
        assert api.writes() == []
    assert checked["changed"] is False and result["changed"] is False and not result.get("failed"), result


def test_an_api_that_cannot_be_reached_is_a_clear_error(run_module, tmp_path):
    with KubeApiDouble({}) as api:
        kubeconfig = api.kubeconfig(tmp_path)
    result = run_module(coordinator_forwarder, {"namespace": "contrast", "state": "absent", "kubeconfig": kubeconfig})
    assert result["failed"] and result["msg"].startswith("cannot read pod contrast/port-forwarder-coordinator"), result


def coordinator(name: str, ready: bool) -> dict:
    return {
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "coordinator"}},
        "status": {"phase": "Running" if ready else "Pending", "conditions": [{"type": "Ready", "status": str(ready)}]},
    }


def test_several_coordinators_need_no_forwarder_when_replicas_are_looked_for(run_module, tmp_path):
    listed = {"items": [coordinator(f"coordinator-{i}", ready=False) for i in range(3)]}
    with KubeApiDouble({SERVICE: service([]), PODS: listed}) as api:
        args = {"namespace": "contrast", "replicas": "auto", "kubeconfig": api.kubeconfig(tmp_path)}
        result = run_module(coordinator_forwarder, args)
        assert api.writes() == []
    assert not result.get("failed"), result["msg"]
    assert result["needed"] is False and result["changed"] is False and result["created"] is False
    assert result["coordinators"] == ["coordinator-0", "coordinator-1", "coordinator-2"]


def test_one_coordinator_still_gets_the_forwarder_and_replicas_one_never_looks(run_module, tmp_path):
    for replicas, items in (("auto", [coordinator("coordinator-0", ready=False)]), ("one", [])):
        with KubeApiDouble({SERVICE: service([]), PODS: {"items": items}}) as api:
            args = {"namespace": "contrast", "replicas": replicas, "kubeconfig": api.kubeconfig(tmp_path)}
            result = run_module(coordinator_forwarder, args, check_mode=True)
            assert api.writes() == []
        assert result["changed"] is True and result["needed"] is True and "coordinators" not in result, result


def test_with_the_default_kubeconfig_auto_creates_the_forwarder_as_coordinator_recover_takes_one_coordinator(
    run_module, tmp_path, monkeypatch
):
    """coordinator_recover handles a set under replicas=auto only when the API is named; otherwise it goes through the
    forwarder, which must then exist."""
    listed = {"items": [coordinator(f"coordinator-{i}", ready=False) for i in range(3)]}
    with KubeApiDouble({SERVICE: service([]), PODS: listed}) as api:
        # The client's default file (read from KUBECONFIG when the library is first imported).
        monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", api.kubeconfig(tmp_path))
        monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
        result = run_module(coordinator_forwarder, {"namespace": "contrast", "replicas": "auto"}, check_mode=True)
        assert api.writes() == []
    assert result["changed"] is True and result["needed"] is True and "coordinators" not in result, result
