# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The event source's loop: options checked first, one look per cluster when due, events in order, and an end."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._source import (
    Settings,
    SettingsError,
    run_watch,
)
from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._state import Look

INVENTORY = json.dumps(
    {
        "_meta": {"hostvars": {"cp-0": {"ansible_host": "127.0.0.10", "constellation_recover_attestation": "lab"}}},
        "constellation_control_plane": {"hosts": ["cp-0"]},
    }
)
DOWN = Look(api={"quorum": False, "etcd_readyz": "Kubernetes API unreachable"}, nodes={"cp-0": "waiting"})
UP = Look(api={"quorum": True, "etcd_readyz": "ok", "not_ready_nodes": []}, nodes={"cp-0": "not_waiting"})
REFUSED = Look(api={"quorum": False, "etcd_readyz": "HTTP 403 Forbidden: no"}, nodes={"cp-0": "not_waiting"})


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.pauses = []

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.pauses.append(round(seconds, 3))
        self.now += seconds


class Queue:
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def watch(looks, look_seconds=0.0, **options):
    clock, queue, seen = Clock(), Queue(), []

    class Eyes:
        def __init__(self, cluster, timeout):
            seen.append((cluster.name, timeout))
            self.script = iter(looks)

        def look(self):
            clock.now += look_seconds
            return next(self.script)

    args = dict({"inventory": "inv.yml", "interval": 2, "jitter": 0, "max_looks": len(looks)}, **options)
    asyncio.run(
        run_watch(
            queue,
            args,
            eyes_for=Eyes,
            inventory_reader=lambda s: INVENTORY,
            clock=clock,
            sleep=clock.sleep,
            rng=random.Random(1),
        )
    )
    return [e["confidential_recovery"] for e in queue.events], clock, seen


def test_an_outage_and_its_end_in_order_with_the_interval_between_looks():
    events, clock, seen = watch([UP, DOWN, DOWN, UP])
    assert [e["type"] for e in events] == ["nodes_waiting", "recovered"]
    assert events[0]["observed_at"] == 1002.0 and events[1]["observed_at"] == 1006.0
    assert clock.pauses == [2.0, 2.0, 2.0] and seen == [("constellation", 5.0)]


def test_refusals_stretch_the_pause():
    _events, clock, _seen = watch([REFUSED, REFUSED, REFUSED, UP], max_backoff=6)
    assert clock.pauses == [4.0, 6.0, 6.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "inventory"),
        ({"inventory": "i", "interval": "soon"}, "interval"),
        ({"inventory": "i", "interval": 0}, "interval"),
        ({"inventory": "i", "interval": 10, "max_backoff": 5}, "max_backoff"),
        ({"inventory": "i", "watch_contrast": "yes"}, "watch_contrast"),
        ({"inventory": "i", "max_looks": -1}, "max_looks"),
        ({"inventory": "i", "intervall": 3}, "unknown options: intervall"),
    ],
)
def test_wrong_options_stop_the_source_before_it_looks(args, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_args(args)


def test_a_slow_look_does_not_stretch_the_time_between_looks():
    events, clock, _seen = watch([UP, DOWN, DOWN, UP], look_seconds=1.5)
    assert clock.pauses == [0.5, 0.5, 0.5]
    assert [e["observed_at"] for e in events] == [1003.5, 1007.5]  # looks start at 1000, 1002, 1004, 1006


def test_a_look_longer_than_the_interval_is_followed_at_once():
    _events, clock, _seen = watch([UP, UP, UP], look_seconds=3.0)
    assert clock.pauses == [0.0, 0.0]
