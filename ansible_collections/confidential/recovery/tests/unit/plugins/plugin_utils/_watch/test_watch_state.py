# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The cluster watch's conditions and events, with time given by the test."""

from __future__ import annotations

import json
import random

import pytest

from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._state import (
    ClusterWatch,
    Look,
    condition,
    next_delay,
)

NODES = ["cp-0", "cp-1", "cp-2"]
NO_QUORUM = {
    "quorum": False,
    "etcd_readyz": "Kubernetes API unreachable: ConnectionRefusedError",
    "api_reachable": False,
}
QUORUM = {"quorum": True, "etcd_readyz": "ok", "not_ready_nodes": []}


def look(api, waiting=(), coordinator=None, not_ready=()):
    nodes = {name: ("waiting" if name in waiting else "not_waiting") for name in NODES}
    return Look(api=dict(api, not_ready_nodes=list(not_ready)), nodes=nodes, coordinator=coordinator)


def kinds(events):
    return [e["confidential_recovery"]["type"] for e in events]


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (look(NO_QUORUM, waiting=["cp-1"]), "nodes_waiting"),
        (look(NO_QUORUM), "quorum_lost"),
        (look(QUORUM, coordinator="recovery_mode"), "coordinator_waiting"),
        (look(QUORUM, not_ready=["cp-2"]), "healing"),
        (look(QUORUM, coordinator="unreachable"), "healing"),
        (look(QUORUM, coordinator="ready"), "healthy"),
        (look(QUORUM), "healthy"),
        # quorum comes first: nodes that wait while etcd has quorum rejoin by themselves
        (look(QUORUM, waiting=["cp-0"]), "healthy"),
    ],
)
def test_each_condition(observed, expected):
    assert condition(observed)[0] == expected


def test_an_outage_and_its_recovery_make_one_event_each_then_recovered():
    watch = ClusterWatch("lab", repeat_after=300)
    assert watch.update(look(QUORUM), 0) == []  # healthy at the start says nothing
    assert kinds(watch.update(look(NO_QUORUM), 10)) == ["quorum_lost"]
    assert watch.update(look(NO_QUORUM), 12) == []
    events = watch.update(look(NO_QUORUM, waiting=["cp-0", "cp-2"]), 14)
    assert kinds(events) == ["nodes_waiting"]
    body = events[0]["confidential_recovery"]
    assert body["cluster"] == "lab" and body["since"] == 14 and body["facts"]["nodes_waiting"] == ["cp-0", "cp-2"]
    assert "cp-0, cp-2" in body["why"] and body["repeated"] is False
    assert watch.update(look(NO_QUORUM, waiting=["cp-0"]), 16) == []
    assert watch.update(look(QUORUM, not_ready=["cp-1"]), 18) == []  # healing: no event
    assert kinds(watch.update(look(QUORUM), 20)) == ["recovered"]
    assert watch.update(look(QUORUM), 22) == []


def test_an_unhealthy_cluster_is_reported_again_after_repeat_after():
    watch = ClusterWatch("lab", repeat_after=60)
    assert kinds(watch.update(look(NO_QUORUM, waiting=["cp-0"]), 0)) == ["nodes_waiting"]
    assert watch.update(look(NO_QUORUM, waiting=["cp-0"]), 59) == []
    again = watch.update(look(NO_QUORUM, waiting=["cp-0"]), 60)
    assert kinds(again) == ["nodes_waiting"] and again[0]["confidential_recovery"]["repeated"] is True
    assert again[0]["confidential_recovery"]["since"] == 0


def test_the_api_down_with_no_node_waiting_says_why_and_is_not_a_recovery():
    events = ClusterWatch("lab").update(look(NO_QUORUM), 5)
    body = events[0]["confidential_recovery"]
    assert body["type"] == "quorum_lost"
    assert "no control-plane node waits" in body["why"] and "ConnectionRefusedError" in body["why"]
    assert body["facts"]["api_reachable"] is False


def test_the_coordinator_in_recovery_mode_once_quorum_is_back():
    watch = ClusterWatch("lab")
    watch.update(look(QUORUM, coordinator="ready"), 0)
    assert kinds(watch.update(look(QUORUM, coordinator="recovery_mode"), 1)) == ["coordinator_waiting"]
    assert kinds(watch.update(look(QUORUM, coordinator="ready"), 2)) == ["recovered"]


def test_an_event_carries_bounded_details_and_is_json():
    hostile = "x" * 5000
    observed = Look(
        api={"quorum": False, "etcd_readyz": hostile}, nodes={"cp-0": "unreachable"}, node_details={"cp-0": hostile}
    )
    body = ClusterWatch("lab").update(observed, 0)[0]["confidential_recovery"]
    assert len(body["facts"]["etcd_readyz"]) < 400 and len(body["facts"]["node_details"]["cp-0"]) < 400
    assert len(body["why"]) < 1000
    json.dumps(body)


def test_refusals_back_off_and_a_good_answer_resets():
    watch = ClusterWatch("lab")
    refused = {"quorum": False, "etcd_readyz": "HTTP 429 Too Many Requests: slow down"}
    for now in range(3):
        watch.update(look(refused), now)
    assert watch.refusals == 3
    watch.update(look(QUORUM), 4)
    assert watch.refusals == 0


def test_the_pause_is_jittered_doubled_on_refusals_and_bounded():
    rng = random.Random(7)
    plain = [next_delay(10, 0.2, 0, 300, rng) for _look in range(200)]
    assert 8 <= min(plain) and max(plain) <= 12 and len(set(plain)) > 100
    assert 32 <= next_delay(10, 0.2, 2, 300, rng) <= 48
    assert next_delay(10, 0.2, 40, 300, rng) == 300
    assert next_delay(10, 0.0, 0, 300, rng) == 10
