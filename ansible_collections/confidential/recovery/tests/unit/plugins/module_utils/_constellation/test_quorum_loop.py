# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The push-round loop against a simulated control plane: convergence, late and rebooting nodes, deadlines."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._quorum_loop import (
    ALL,
    FAILED,
    HOSTILE,
    QUORUM,
    QUORUM_THEN_ALL,
    REFUSED,
    WAITING,
    ControlPlaneNode,
    ProbeResult,
    PushOutcome,
    QuorumLoop,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._deadline import Deadline, ProgressLog


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += max(0.0, seconds)


class SimulatedCluster:
    """Nodes are 'waiting', 'down', 'unlocked' or 'hostile'. Quorum when floor(n/2)+1 are unlocked.

    ``script`` maps a round number to a function run at the start of that round (a node boots, reboots...), between
    the loop's sleep and its next probes (the loop asks the API and the nodes at the same time).
    ``stall`` makes every API call use the whole timeout it was given.
    """

    def __init__(self, states, clock, reboot_after_push=(), api_down=False, stall=False, etcd_never_starts=()):
        self.states = dict(states)
        self.clock = clock
        self.reboot_after_push = set(reboot_after_push)
        self.etcd_never_starts = set(etcd_never_starts)
        self.api_down = api_down
        self.stall = stall
        self.pushes = []
        self.health_calls = 0
        self.round = 1
        self.script = {}

    def sleep(self, seconds):
        """The loop's pause between rounds: time passes, and the next round's scripted event happens."""
        self.clock.advance(seconds)
        self.round += 1
        if self.round in self.script:
            self.script[self.round](self)

    def quorum(self):
        return sum(s == "unlocked" for s in self.states.values()) >= len(self.states) // 2 + 1

    def health(self, timeout):
        self.health_calls += 1
        if self.stall:
            self.clock.advance(timeout)
            return {
                "quorum": False,
                "etcd_readyz": "Kubernetes API unreachable: ReadTimeoutError",
                "api_reachable": False,
            }
        if self.api_down:
            return {
                "quorum": False,
                "etcd_readyz": "Kubernetes API unreachable: connection refused",
                "api_reachable": False,
            }
        return {"quorum": self.quorum(), "etcd_readyz": "ok" if self.quorum() else "[-]etcd failed"}

    def probe(self, node, timeout):
        state = self.states[node.name]
        if state == "waiting":
            return ProbeResult(WAITING, "waits")
        if state == "hostile":
            return ProbeResult(HOSTILE, "attestation failed")
        if state == "crashing":
            raise KeyError("PCRs")  # a reader that met a shape nobody foresaw
        if state == "crashing-push":
            return ProbeResult(WAITING, "waits")
        return ProbeResult(REFUSED, "refuses connections")

    def push(self, node, timeout):
        self.pushes.append(node.name)
        if self.states[node.name] == "crashing-push":
            raise ZeroDivisionError("RSA modulus of 0")
        if self.states[node.name] != "waiting":
            return PushOutcome(False, stopped_waiting=True)
        if node.name in self.reboot_after_push:
            self.reboot_after_push.discard(node.name)
            self.states[node.name] = "waiting"  # took the key, crashed, waits again
        elif node.name in self.etcd_never_starts:
            self.states[node.name] = "keyed"  # unlocked its disk, but its etcd member never came up
        else:
            self.states[node.name] = "unlocked"
        return PushOutcome(True, seconds=0.01, protocol="unary")


def run_loop(
    cluster,
    clock,
    stop_at=QUORUM,
    wait=60.0,
    check_mode=False,
    call_timeout=5.0,
    quorum_grace=60.0,
    release=None,
    reach_timeout=None,
):
    deadline = Deadline(wait, clock=clock)
    nodes = [ControlPlaneNode(name=name, address=f"127.0.0.{i + 10}") for i, name in enumerate(sorted(cluster.states))]
    loop = QuorumLoop(
        nodes,
        probe=cluster.probe,
        push=cluster.push,
        health=cluster.health,
        stop_at=stop_at,
        deadline=deadline,
        call_timeout=call_timeout,
        poll_interval=1.0,
        progress=ProgressLog(deadline),
        quorum_grace=quorum_grace,
        check_mode=check_mode,
        sleep=cluster.sleep,
        release=release,
        reach_timeout=reach_timeout,
    )
    return loop.run(), loop


def five(**overrides):
    states = {f"cp-{i}": "waiting" for i in range(5)}
    states.update(overrides)
    return states


def test_whole_control_plane_waiting_gets_exactly_quorum_keys():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and len(cluster.pushes) == 3
    assert loop.result()["keys_pushed"] == 3


def test_a_refusing_node_counts_as_down_not_up():
    # One node killed, four waiting: counting the refused port as "up" would send only 2 keys.
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "down"}), clock)
    ok, _rounds = run_loop(cluster, clock)
    assert ok
    assert sorted(cluster.pushes) == ["cp-1", "cp-2", "cp-3"]


def test_a_node_that_reboots_after_its_push_is_replaced_in_a_later_round():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, reboot_after_push={"cp-0"})
    ok, loop = run_loop(cluster, clock)
    assert ok and cluster.quorum()
    assert len(cluster.pushes) == 4 and loop.rounds >= 2
    assert loop.result()["keys_pushed"] == 4


def test_a_node_that_comes_up_late_is_pushed_when_it_waits():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "down", "cp-1": "down", "cp-2": "down"}), clock)
    cluster.script[3] = lambda c: c.states.update({"cp-0": "waiting", "cp-1": "waiting"})
    ok, loop = run_loop(cluster, clock)
    assert ok
    assert sorted(cluster.pushes) == ["cp-0", "cp-3", "cp-4"]  # two early, the late cp-0 makes quorum
    assert loop.rounds >= 3


def test_attestation_failures_are_never_pushed():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "hostile"}), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and "cp-0" not in cluster.pushes
    assert next(n for n in loop.nodes if n.name == "cp-0").error == "attestation failed"


def test_stop_at_all_pushes_every_waiting_node():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock)
    ok, _rounds = run_loop(cluster, clock, stop_at=ALL)
    assert ok and len(cluster.pushes) == 5


def test_quorum_then_all_reaches_quorum_with_the_fewest_keys_then_pushes_the_rest_at_once():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock)
    released = []

    ok, loop = run_loop(
        cluster,
        clock,
        stop_at=QUORUM_THEN_ALL,
        release=lambda targets: released.append(sorted(n.name for n in targets)),
    )

    assert ok and cluster.pushes == ["cp-0", "cp-1", "cp-2", "cp-3", "cp-4"]
    assert [n.timeline[-1]["start"] for n in loop.nodes if n.name in ("cp-3", "cp-4")] == [1.0, 1.0]
    assert all(n.timeline[-1]["start"] == 0.0 for n in loop.nodes if n.name in ("cp-0", "cp-1", "cp-2"))
    # Each round tells the wiring which probe connections the pushes will use; the last round pushes to none.
    assert released == [["cp-0", "cp-1", "cp-2"], ["cp-3", "cp-4"], []] and loop.rounds == 3


def test_rerun_with_quorum_pushes_nothing():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "unlocked", "cp-1": "unlocked", "cp-2": "unlocked"}), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and cluster.pushes == [] and loop.rounds == 1


def test_check_mode_plans_and_sends_nothing():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock)
    ok, loop = run_loop(cluster, clock, check_mode=True)
    assert not ok and cluster.pushes == []
    assert loop.would_push == ["cp-0", "cp-1", "cp-2"]


def test_api_down_ends_at_the_deadline_with_the_api_error():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, api_down=True)
    ok, loop = run_loop(cluster, clock, wait=20.0)
    assert not ok and len(cluster.pushes) == 3  # keys held by 3 nodes, nothing more to push
    assert "Kubernetes API unreachable" in loop.failure_message()
    assert "3 (cp-0, cp-1, cp-2) of 3 needed" in loop.failure_message()


@pytest.mark.parametrize("call_timeout", [5.0, 30.0])
def test_a_stalled_api_cannot_stretch_the_deadline(call_timeout):
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, stall=True)
    ok, _rounds = run_loop(cluster, clock, wait=12.0, call_timeout=call_timeout)
    assert not ok
    # Every call is cut to the time left; the health question keeps at least 3 s.
    assert clock.now <= 12.0 + 3.0


def test_a_keyed_node_whose_etcd_never_starts_is_topped_up_after_the_grace():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, etcd_never_starts={"cp-0"})
    ok, loop = run_loop(cluster, clock, wait=120.0, quorum_grace=10.0)
    assert ok and cluster.quorum()
    assert sorted(cluster.pushes) == ["cp-0", "cp-1", "cp-2", "cp-3", "cp-4"]
    assert loop.result()["topped_up"] is True
    assert 10.0 <= clock.now < 30.0, clock.now  # waited the grace, not the whole deadline
    assert any("cp-0, cp-1, cp-2 hold a key, yet etcd has no quorum" in line for line in loop.progress.lines)


def test_no_top_up_before_the_grace_runs_out():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, etcd_never_starts={"cp-0"})
    ok, loop = run_loop(cluster, clock, wait=20.0, quorum_grace=60.0)
    assert not ok and len(cluster.pushes) == 3
    assert loop.result()["topped_up"] is False


def test_quorum_within_the_grace_sends_no_extra_key():
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock)
    ok, loop = run_loop(cluster, clock, quorum_grace=0.0)
    assert ok and len(cluster.pushes) == 3 and loop.result()["topped_up"] is False


def test_progress_keeps_news_and_a_heartbeat_only():
    clock = FakeClock()
    log = ProgressLog(Deadline(100, clock=clock), every=10)
    log("round 1: same", key="same")
    clock.advance(1)
    log("round 2: same", key="same")
    clock.advance(10)
    log("round 3: same", key="same")
    log("round 4: other", key="other")
    assert [line.split("] ", 1)[1] for line in log.lines] == ["round 1: same", "round 3: same", "round 4: other"]


def test_each_node_keeps_when_it_was_attested_and_pushed():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-4": "hostile"}), clock, reboot_after_push=["cp-0"])
    cluster.script[2] = lambda c: clock.advance(0.25)  # round 2 begins a quarter second later
    ok, loop = run_loop(cluster, clock)
    assert ok
    timelines = {node["name"]: node["timeline"] for node in loop.result()["nodes"]}
    # cp-0 took a key, rebooted, was attested again and pushed again.
    assert [(t["stage"], t["status"]) for t in timelines["cp-0"]] == [
        ("attestation", "ok"),
        ("pushes", "ok"),
        ("attestation", "ok"),
        ("pushes", "ok"),
    ]
    assert timelines["cp-0"][2]["start"] > timelines["cp-0"][1]["end"]
    assert timelines["cp-4"] and {t["status"] for t in timelines["cp-4"]} == {"failed"}  # judged, never pushed
    assert all(t["end"] >= t["start"] for line in timelines.values() for t in line)
    assert loop.result()["started_at"] > 1.7e9  # wall clock, to place the timelines in a drill


def test_no_node_answering_without_quorum_ends_the_first_round_as_unreachable():
    clock = FakeClock()
    cluster = SimulatedCluster({f"cp-{i}": "down" for i in range(3)}, clock)
    timeouts = []
    probe = cluster.probe
    cluster.probe = lambda node, timeout: (timeouts.append(timeout), probe(node, timeout))[1]

    ok, loop = run_loop(cluster, clock, reach_timeout=2.0)

    assert not ok and loop.unreachable and loop.rounds == 1 and cluster.pushes == []
    assert loop.result()["reach"] == {"answered": 0, "total": 3, "reachable": False} and set(timeouts) == {2.0}


def test_one_answering_node_keeps_the_loop_direct():
    clock = FakeClock()
    cluster = SimulatedCluster({"cp-0": "waiting", "cp-1": "down", "cp-2": "down"}, clock)
    cluster.script[3] = lambda c: c.states.update({"cp-1": "waiting"})

    ok, loop = run_loop(cluster, clock, reach_timeout=2.0)

    assert ok and not loop.unreachable and loop.result()["reach"]["answered"] == 1
    assert cluster.pushes == ["cp-0", "cp-1"]


def test_a_probe_that_raises_something_unforeseen_fails_that_node_only():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "crashing"}), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and cluster.quorum()
    assert "cp-0" not in cluster.pushes and len(cluster.pushes) == 3
    crashed = next(n for n in loop.result()["nodes"] if n["name"] == "cp-0")
    assert crashed["state"] == FAILED
    assert "cp-0" in crashed["error"] and "KeyError" in crashed["error"] and "PCRs" in crashed["error"]


def test_a_push_that_raises_something_unforeseen_fails_that_node_and_another_takes_its_place():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "crashing-push"}), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and cluster.quorum()
    crashed = next(n for n in loop.result()["nodes"] if n["name"] == "cp-0")
    assert not crashed["holds_key"] and "ZeroDivisionError" in crashed["error"]
    assert sum(1 for n in loop.result()["nodes"] if n["holds_key"]) == 3


class ApiThatAnswersAfterAProbe(SimulatedCluster):
    """Its health answer waits (in real time, up to 5 s) until some node has been probed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.probed = threading.Event()
        self.answered_after_a_probe = []

    def health(self, timeout):
        self.answered_after_a_probe.append(self.probed.wait(5))
        return super().health(timeout)

    def probe(self, node, timeout):
        self.probed.set()
        return super().probe(node, timeout)


def test_the_api_and_the_nodes_are_asked_at_the_same_time():
    """A slow API answer (or a client library still being imported) does not hold back the round's probes."""
    clock = FakeClock()
    cluster = ApiThatAnswersAfterAProbe(five(), clock)
    ok, loop = run_loop(cluster, clock)
    assert ok and cluster.answered_after_a_probe[0] is True
    assert loop.result()["keys_pushed"] == 3


class ApiThatAnswersAfterAPush(SimulatedCluster):
    """Its health answer waits (in real time, up to 2 s) until some node has been pushed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pushed = threading.Event()
        self.answered_after_a_push = []

    def health(self, timeout):
        self.answered_after_a_push.append(self.pushed.wait(2))
        return super().health(timeout)

    def push(self, node, timeout):
        outcome = super().push(node, timeout)
        self.pushed.set()
        return outcome


def test_with_stop_at_all_the_keys_go_out_before_the_api_answers():
    """The API's answer changes no target of stop_at=all, so the first key does not wait for it (nor for the client
    library's import); every waiting node still gets exactly one key."""
    clock = FakeClock()
    cluster = ApiThatAnswersAfterAPush(five(), clock)
    ok, loop = run_loop(cluster, clock, stop_at=ALL)
    assert ok and cluster.answered_after_a_push[0] is True
    assert sorted(cluster.pushes) == [f"cp-{i}" for i in range(5)]
    assert loop.rounds == 2  # round 1 pushed all five; round 2 saw quorum and nobody waiting


@pytest.mark.parametrize("stop_at", [QUORUM, QUORUM_THEN_ALL])
def test_a_plan_that_depends_on_quorum_waits_for_the_api_before_any_key(stop_at):
    clock = FakeClock()
    cluster = ApiThatAnswersAfterAPush(five(), clock)
    ok, _loop = run_loop(cluster, clock, stop_at=stop_at)
    assert ok and cluster.answered_after_a_push[0] is False  # the 2 s wait ran out: no key before the answer


def test_check_mode_with_stop_at_all_pushes_nothing_before_or_after_the_api_answers():
    clock = FakeClock()
    cluster = ApiThatAnswersAfterAPush(five(), clock)
    ok, loop = run_loop(cluster, clock, stop_at=ALL, check_mode=True)
    assert cluster.pushes == [] and sorted(loop.would_push) == [f"cp-{i}" for i in range(5)]


def test_with_stop_at_all_only_a_first_round_that_pushed_skips_the_api():
    """A node that waits again after every push keeps every round pushing; the API is still asked from round 2 on."""
    clock = FakeClock()
    cluster = SimulatedCluster(five(), clock, reboot_after_push=["cp-0"])
    ok, loop = run_loop(cluster, clock, stop_at=ALL)
    assert ok and cluster.pushes.count("cp-0") == 2
    assert cluster.health_calls == loop.rounds - 1


def test_with_stop_at_all_a_failed_push_is_tried_again_in_the_next_round_not_the_same_one():
    clock = FakeClock()
    cluster = SimulatedCluster(five(**{"cp-0": "crashing-push"}), clock)
    attempts_by_round: dict[int, int] = {}
    push = cluster.push

    def counted(node, timeout):
        if node.name == "cp-0":
            attempts_by_round[cluster.round] = attempts_by_round.get(cluster.round, 0) + 1
        return push(node, timeout)

    cluster.push = counted
    ok, loop = run_loop(cluster, clock, stop_at=ALL, wait=5.0)
    assert not ok or cluster.quorum()
    assert attempts_by_round and set(attempts_by_round.values()) == {1}, attempts_by_round
    assert len(attempts_by_round) >= 2  # it was tried again, a round later
