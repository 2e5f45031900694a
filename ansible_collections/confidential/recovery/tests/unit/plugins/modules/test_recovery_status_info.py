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
