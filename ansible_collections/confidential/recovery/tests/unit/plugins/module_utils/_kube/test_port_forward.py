# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Which pod a port-forward goes to, and the forwarder pod of Contrast's guide: its manifest and why it is not Ready."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._kube._forwarder_pod import _why_not_ready, manifest
from ansible_collections.confidential.recovery.plugins.module_utils._kube._port_forward import ready_forwarder


def pod(name: str, phase: str = "Running", ready: str = "True") -> dict:
    return {"metadata": {"name": name}, "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}}


@pytest.mark.parametrize(
    "pods, wanted, expected",
    [
        ([pod("b"), pod("a")], None, "a"),
        ([pod("a", ready="False"), pod("b")], None, "b"),
        ([pod("a", phase="Pending"), pod("b", phase="Succeeded")], None, None),
        ([pod("a"), pod("port-forwarder-coordinator")], "port-forwarder-coordinator", "port-forwarder-coordinator"),
        ([pod("a")], "port-forwarder-coordinator", None),
        ([{"metadata": "x"}, None, 7, {"status": {"phase": "Running"}}, pod("z")], None, "z"),
    ],
)
def test_the_first_ready_pod_by_name(pods, wanted, expected):
    assert ready_forwarder(pods, wanted) == expected


def test_the_forwarder_is_the_guides_socat_pod_labelled_as_ours():
    body = manifest("port-forwarder-coordinator", "contrast", "alpine/socat@sha256:" + "0" * 64, "coordinator", 1313)
    container = body["spec"]["containers"][0]
    assert container["args"] == ["-d", "TCP-LISTEN:1313,fork", "TCP:coordinator:1313"]
    assert container["resources"]["limits"] == {"memory": "50Mi"}
    assert body["metadata"]["labels"] == {
        "app.kubernetes.io/name": "port-forwarder-coordinator",
        "app.kubernetes.io/managed-by": "confidential.recovery",
    }


def test_why_a_pod_is_not_ready_names_the_failing_conditions():
    pending = {
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/4 nodes"},
                {"type": "Initialized", "status": "True"},
            ],
        }
    }
    assert _why_not_ready(pending) == "phase Pending; PodScheduled Unschedulable: 0/4 nodes"
    assert _why_not_ready({"status": "garbage"}) == "phase unknown"
