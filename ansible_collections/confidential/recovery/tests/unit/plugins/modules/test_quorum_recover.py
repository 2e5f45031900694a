# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""quorum_recover's main(): the node list's spec, a check mode that attests every waiting node and pushes none, and
credentials that cannot be loaded stopping the run before any key."""

from __future__ import annotations

import os

from fresh_interpreter import run_fresh
from module_arguments import MASTER_SECRET, kubeconfig, no_quorum, refuse

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _quorum_recover
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._quorum_loop import (
    REFUSED,
    WAITING,
    ProbeResult,
    PushOutcome,
)
from ansible_collections.confidential.recovery.plugins.modules import quorum_recover

NODES = [{"name": f"cp-{i}", "address": f"127.0.0.{i + 2}"} for i in range(3)]


def arguments(tmp_path, **changes) -> dict:
    return {
        "nodes": NODES,
        "attestation": "lab",
        "master_secret": MASTER_SECRET,
        "kubeconfig": kubeconfig(tmp_path),
    } | changes


def test_a_node_without_an_address_is_refused(run_module, tmp_path):
    result = run_module(quorum_recover, arguments(tmp_path, nodes=[{"name": "cp-0"}]))
    assert result["failed"] and "address" in result["msg"]


def test_an_unknown_stop_is_refused(run_module, tmp_path):
    result = run_module(quorum_recover, arguments(tmp_path, stop_at="never"))
    assert result["failed"] and "stop_at" in result["msg"]


def test_check_mode_names_the_nodes_it_would_push_to_and_pushes_none(run_module, tmp_path, monkeypatch):
    probed = []

    def waiting(wiring, node, timeout):
        probed.append(node.name)
        return ProbeResult(WAITING, f"{node.address} waits for a key and passed attestation")

    monkeypatch.setattr(_quorum_recover.Wiring, "probe", waiting)
    monkeypatch.setattr(_quorum_recover.Wiring, "push", refuse)
    monkeypatch.setattr(_quorum_recover, "cluster_health", no_quorum)
    result = run_module(quorum_recover, arguments(tmp_path, wait_timeout=5), check_mode=True)
    assert result["rc"] == 0 and not result.get("failed"), result["msg"]
    # Quorum of three is two: check mode plans the pushes a real run would make, then stops.
    assert len(result["would_push"]) == 2 and set(result["would_push"]) < {"cp-0", "cp-1", "cp-2"}
    assert result["keys_pushed"] == 0
    assert result["changed"] is True and sorted(set(probed)) == ["cp-0", "cp-1", "cp-2"]
    assert "kube_api_unverified" in {caveat["condition"] for caveat in result["assurance"]}


def nodes_that_wait_until_pushed(monkeypatch) -> list[str]:
    """Every node attests and waits for a key; once pushed it refuses connections (it unlocked). Returns the pushes."""
    pushed: list[str] = []

    def probe(wiring, node, timeout):
        if node.name in pushed:
            return ProbeResult(REFUSED, f"{node.address} refuses connections")
        return ProbeResult(WAITING, f"{node.address} waits for a key and passed attestation")

    def push(wiring, node, timeout):
        pushed.append(node.name)
        return PushOutcome(True, seconds=0.01, protocol="unary")

    monkeypatch.setattr(_quorum_recover.Wiring, "probe", probe)
    monkeypatch.setattr(_quorum_recover.Wiring, "push", push)
    return pushed


def broken_kubeconfig(tmp_path) -> str:
    broken = tmp_path / "broken-kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: 7\n")
    return str(broken)


def test_credentials_that_cannot_be_loaded_stop_the_run_before_any_key(run_module, tmp_path, monkeypatch):
    pushed = nodes_that_wait_until_pushed(monkeypatch)
    broken = broken_kubeconfig(tmp_path)
    result = run_module(quorum_recover, arguments(tmp_path, kubeconfig=broken, wait_timeout=5))
    assert result["failed"] and result["keys_pushed"] == 0 and pushed == []
    assert broken in result["msg"], result["msg"]


def test_with_stop_at_all_credentials_that_cannot_be_loaded_fail_the_run_and_say_which_keys_went_out(
    run_module, tmp_path, monkeypatch
):
    """stop_at=all pushes to attested waiting nodes before the API answers; a kubeconfig that cannot be loaded still
    fails the run, and the result counts the keys that went out."""
    monkeypatch.setattr(_quorum_recover, "AFTER_KEYS_NICENESS", 0)  # the loop runs in pytest's own thread
    pushed = nodes_that_wait_until_pushed(monkeypatch)
    broken = broken_kubeconfig(tmp_path)
    result = run_module(
        quorum_recover, arguments(tmp_path, kubeconfig=broken, stop_at="all", wait_timeout=5, poll_interval=0.1)
    )
    assert result["failed"] and result["keys_pushed"] == 3 and result["changed"] is True
    assert sorted(pushed) == ["cp-0", "cp-1", "cp-2"]
    assert str(broken) in result["msg"] and "3 key(s) had already gone" in result["msg"], result["msg"]


def test_once_its_keys_are_out_a_run_gives_way_and_imports_the_client():
    """In a fresh interpreter (niceness cannot be raised back): after the keys, this thread and the threads it starts
    later run at a lower priority, lowered once however many rounds pushed, and the client's import has started."""
    code = (
        "import os, sys, threading\n"
        "from ansible_collections.confidential.recovery.plugins.module_utils._backends import _quorum_recover\n"
        "from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client\n"
        "_quorum_recover.after_keys()\n"
        "_quorum_recover.after_keys()\n"
        "seen = []\n"
        "later = threading.Thread(target=lambda: seen.append(os.getpriority(os.PRIO_PROCESS, 0)))\n"
        "later.start()\n"
        "later.join()\n"
        "_client.library()\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0), seen[0], 'kubernetes.client' in sys.modules)\n"
    )
    done = run_fresh(code)
    assert done.returncode == 0, done.stderr
    expected = max(os.getpriority(os.PRIO_PROCESS, 0), _quorum_recover.AFTER_KEYS_NICENESS)
    assert done.stdout.split() == [str(expected), str(expected), "True"], done.stdout
