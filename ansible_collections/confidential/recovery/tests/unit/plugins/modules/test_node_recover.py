# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""node_recover's main(): its argument spec, and a check mode that attests and sends nothing."""

from __future__ import annotations

from module_arguments import MASTER_SECRET, refuse

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _push
from ansible_collections.confidential.recovery.plugins.modules import node_recover

ARGS = {"endpoint": "127.0.0.1", "attestation": "lab", "master_secret": MASTER_SECRET}


def test_the_secret_is_required_once(run_module):
    missing = run_module(node_recover, {"endpoint": "127.0.0.1", "attestation": "lab"})
    assert missing["failed"] and "master_secret_file, master_secret" in missing["msg"]
    both = run_module(node_recover, dict(ARGS, master_secret_file="/secret.json"))
    assert both["failed"] and "mutually exclusive" in both["msg"]


def test_an_unknown_mode_is_refused_before_anything_is_dialled(run_module, monkeypatch):
    monkeypatch.setattr(_push, "probe", refuse)
    result = run_module(node_recover, dict(ARGS, mode="broadcast"))
    assert result["failed"] and "mode" in result["msg"] and "direct, load_balancer" in result["msg"]


def test_check_mode_reports_the_push_it_would_make_and_sends_nothing(run_module, monkeypatch):
    monkeypatch.setattr(_push, "probe", lambda endpoint: (True, f"{endpoint.address} waits for a key"))
    monkeypatch.setattr(_push, "push_detecting", refuse)
    result = run_module(node_recover, ARGS, check_mode=True)
    assert result["rc"] == 0 and not result.get("failed"), result["msg"]
    assert result["status"] == "would_push" and result["changed"] is True
    assert result["would_push"] == {"endpoint": "127.0.0.1:9999", "protocol": "auto"}
    assert "AAECAwQFBgc" not in result["printed"]  # the master key's base64: no_log keeps it out of the result


def test_a_node_that_does_not_wait_is_left_alone(run_module, monkeypatch):
    monkeypatch.setattr(_push, "probe", lambda endpoint: (False, "the node is not waiting"))
    monkeypatch.setattr(_push, "push_detecting", refuse)
    result = run_module(node_recover, ARGS)
    assert result["changed"] is False and result["status"] == "not_waiting"
