# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""contrast_workloads_restart's main(): the argument spec, an unchanged mesh CA leaves everything alone, and check mode
lists what it would restart without restarting it."""

from __future__ import annotations

from kube_api_double import KubeApiDouble, pod
from module_arguments import kubeconfig, refuse

from ansible_collections.confidential.recovery.plugins.module_utils._kube import _cluster_health
from ansible_collections.confidential.recovery.plugins.modules import contrast_workloads_restart


def test_namespaces_must_be_a_list_of_names(run_module):
    result = run_module(contrast_workloads_restart, {"namespaces": {"a": 1}})
    assert result["failed"] and "namespaces" in result["msg"]


def test_an_unchanged_mesh_ca_restarts_nothing_and_calls_no_api(run_module, monkeypatch):
    monkeypatch.setattr(_cluster_health, "api_client", refuse)
    result = run_module(contrast_workloads_restart, {"only_if_mesh_ca_changed": False})
    assert result["rc"] == 0 and result["changed"] is False and result["restarted"] == []


def test_check_mode_against_an_unreachable_api_fails_clearly(run_module, tmp_path):
    result = run_module(
        contrast_workloads_restart, {"kubeconfig": kubeconfig(tmp_path), "wait": False}, check_mode=True
    )
    assert result["failed"] and result["msg"].startswith("restarting the mesh workloads failed")
    assert "Traceback" not in result["msg"]


def test_check_mode_lists_the_mesh_workloads_and_writes_nothing(run_module, tmp_path):
    pods = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [
            pod("web-0", "shop", owner={"kind": "StatefulSet", "name": "web"}),
            pod("debug", "shop"),
            pod("plain", "shop", runtime_class="runc"),
        ],
    }
    with KubeApiDouble({"/api/v1/namespaces/shop/pods": pods}) as api:
        args = {"kubeconfig": api.kubeconfig(tmp_path), "namespaces": ["shop"]}
        result = run_module(contrast_workloads_restart, args, check_mode=True)
    assert result["rc"] == 0, result.get("msg")
    assert result["restarted"] == [{"kind": "StatefulSet", "namespace": "shop", "name": "web"}]
    assert result["deleted_pods"] == [{"kind": "Pod", "namespace": "shop", "name": "debug"}]
    assert result["changed"] is True and api.writes() == []
