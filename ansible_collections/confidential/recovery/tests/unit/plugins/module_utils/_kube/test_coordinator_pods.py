# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator pods of a StatefulSet, as the Kubernetes API lists them."""

from __future__ import annotations

from ansible_collections.confidential.recovery.plugins.module_utils._kube._coordinator_pods import coordinator_pods


def pod(name, phase="Running", ready="True", ip="10.0.0.1") -> dict:
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": {"name": name}, "status": status}


def test_pods_come_lowest_ordinal_first_and_those_without_one_last():
    pods = coordinator_pods([pod("coordinator-10"), pod("odd"), pod("coordinator-2"), pod("coordinator-0")])

    assert [(p.name, p.ordinal) for p in pods] == [
        ("coordinator-0", 0),
        ("coordinator-2", 2),
        ("coordinator-10", 10),
        ("odd", None),
    ]


def test_state_comes_from_the_phase_the_ready_condition_and_the_pod_ip():
    waiting, pending, ready = coordinator_pods(
        [
            pod("coordinator-0", ready="False"),
            pod("coordinator-1", phase="Pending", ready="False", ip=None),
            pod("coordinator-2"),
        ]
    )

    assert (waiting.running, waiting.ready, waiting.ip) == (True, False, "10.0.0.1")
    assert (pending.running, pending.ready, pending.ip, pending.phase) == (False, False, None, "Pending")
    assert ready.ready and ready.running


def test_entries_that_are_not_named_pods_are_left_out_and_a_name_counts_once():
    items = [
        None,
        7,
        {"metadata": {"name": ""}},
        {"metadata": []},
        pod("coordinator-1"),
        pod("coordinator-1", ready="False"),
    ]

    pods = coordinator_pods(items)

    assert [p.name for p in pods] == ["coordinator-1"]
    assert coordinator_pods({"items": []}) == []


def test_fields_of_the_wrong_type_read_as_unknown_not_as_an_error():
    (weird,) = coordinator_pods(
        [{"metadata": {"name": "coordinator-3"}, "status": {"phase": 5, "podIP": ["x"], "conditions": "Ready"}}]
    )

    assert (weird.phase, weird.ip, weird.ready, weird.running) == ("unknown", None, False, False)
