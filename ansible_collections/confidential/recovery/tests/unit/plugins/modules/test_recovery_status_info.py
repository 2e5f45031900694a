# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""recovery_status_info's main(): a node check needs its endpoint and variant; check mode looks as a normal run does,
and a wait ends at its deadline."""

from __future__ import annotations

from module_arguments import kubeconfig, refuse

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _recovery_status_info
from ansible_collections.confidential.recovery.plugins.modules import recovery_status_info


def test_a_node_check_needs_an_endpoint_and_an_attestation_variant(run_module, monkeypatch):
    monkeypatch.setattr(_recovery_status_info, "probe", refuse)
    result = run_module(recovery_status_info, {"check": "node"})
    assert result["failed"] and "endpoint" in result["msg"] and "attestation" in result["msg"]


def test_an_unknown_check_is_refused(run_module):
    result = run_module(recovery_status_info, {"check": "disk"})
    assert result["failed"] and "node, cluster" in result["msg"]


def test_check_mode_reports_an_unreachable_api_as_no_quorum(run_module, tmp_path):
    result = run_module(
        recovery_status_info, {"check": "cluster", "kubeconfig": kubeconfig(tmp_path), "timeout": 2}, check_mode=True
    )
    assert result["rc"] == 0 and result["changed"] is False
    assert result["quorum"] is False and result["api_reachable"] is False


def test_a_wait_that_is_not_met_fails_at_its_deadline(run_module, tmp_path):
    args = {"check": "cluster", "kubeconfig": kubeconfig(tmp_path), "wait_for": "quorum", "wait_timeout": 1}
    result = run_module(recovery_status_info, dict(args, timeout=1, poll_interval=0.2))
    assert result["failed"] and result["msg"].startswith("gave up waiting for quorum after 1 s")
    assert result["progress"] and result["changed"] is False


def test_the_last_question_before_the_deadline_still_gets_time_to_be_answered(monkeypatch):
    """A call cut to the few milliseconds left would time out by our own doing and report readiness as unknown."""
    asked = []

    def one_ready_node_missing(auth, timeout):
        asked.append(timeout)
        return {
            "quorum": True,
            "etcd_readyz": "ok",
            "ready_nodes": ["a"],
            "not_ready_nodes": ["b"],
            "control_plane_ready": 1,
            "control_plane_total": 2,
        }

    monkeypatch.setattr(_recovery_status_info, "cluster_health", one_ready_node_missing)
    met, health, _progress, deadline = _recovery_status_info.wait_for(None, "all_ready", 0.4, 5.0, 0.1)
    assert not met and health["quorum"] and deadline.expired()
    assert len(asked) > 1 and min(asked) == 3.0, asked
