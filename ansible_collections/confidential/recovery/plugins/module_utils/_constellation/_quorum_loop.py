# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Push recovery keys in rounds until etcd quorum returns, working from what the cluster says.

Each round asks the Kubernetes API whether etcd has quorum, then probes every control-plane
node's recovery server over aTLS:

- a node that answers and passes attestation waits for a key;
- a node this run gave a key to, and that does not wait again, holds a key;
- every other node (booting, refusing, unreachable, hostile) counts as down, never as up.

Without quorum, the round pushes to as many waiting nodes as quorum still needs beyond the
nodes holding a key from this run (or to all waiting nodes with ``stop_at=all``). With
``stop_at=quorum_then_all``, the round that first sees quorum pushes to every node still waiting,
instead of leaving them to rejoin on their own. A node
that reboots after its push waits again and loses its place, so a later round replaces it;
a node that comes up late is pushed in the round that sees it. When enough nodes hold a key
but quorum stays away for ``quorum_grace`` seconds after the last push (a keyed node's etcd
did not start), every other waiting node gets a key too. Every call is bounded by the run's
deadline, so the loop ends on time whatever the network does.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from .._kube._cluster_health import answer_timeout

WAITING = "waiting"
REFUSED = "refused"
UNREACHABLE = "unreachable"
HOSTILE = "attestation_failed"
ERROR = "error"
FAILED = "failed"  # the probe broke in a way nobody foresaw: this node is failed, the others go on
UNPROBED = "unprobed"
ANSWERED = (WAITING, HOSTILE, ERROR, FAILED)  # a TCP connection was accepted: this controller reaches the node

QUORUM = "quorum"
ALL = "all"
QUORUM_THEN_ALL = "quorum_then_all"  # the fewest keys for quorum, then every other waiting node at once
STRATEGIES = (QUORUM, ALL, QUORUM_THEN_ALL)


@dataclass
class ControlPlaneNode:
    name: str
    address: str
    disk_uuid: str | None = None
    state: str = UNPROBED
    detail: str = ""
    seen_waiting: bool = False
    holds_key: bool = False
    pushes: int = 0
    push_failures: int = 0
    push_seconds: float | None = None
    protocol: str | None = None
    error: str | None = None
    attestation: dict | None = None  # what the node presented when it last passed attestation
    # When this node was attested (a probe that found it waiting) and pushed: seconds since the loop began.
    timeline: list = field(default_factory=list)

    def report(self) -> dict:
        return asdict(self)


@dataclass
class ProbeResult:
    state: str
    detail: str
    evidence: dict | None = None


@dataclass
class PushOutcome:
    ok: bool
    seconds: float = 0.0
    protocol: str | None = None
    disk_uuid: str | None = None
    error: str | None = None
    stopped_waiting: bool = False  # the node stopped waiting between probe and push (it got a key elsewhere)


def unexpected(exc: BaseException, limit: int = 300) -> str:
    """An error nobody foresaw, named by its class and a bounded excerpt of its message (a peer may choose it)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:limit]}{'...' if len(text) > limit else ''}"


def quorum_size(members: int) -> int:
    return members // 2 + 1


def plan_targets(nodes: list[ControlPlaneNode], stop_at: str, has_quorum: bool) -> list[ControlPlaneNode]:
    """Which waiting nodes get a key this round."""
    waiting = [n for n in nodes if n.state == WAITING and not n.holds_key]
    waiting.sort(key=lambda n: (n.push_failures, n.name))
    if stop_at == ALL or (stop_at == QUORUM_THEN_ALL and has_quorum):
        return waiting
    if has_quorum:
        return []
    holding = sum(1 for n in nodes if n.holds_key)
    return waiting[: max(0, quorum_size(len(nodes)) - holding)]


class QuorumLoop:
    """``probe(node, timeout) -> ProbeResult``, ``push(node, timeout) -> PushOutcome``, ``health(timeout) -> dict``."""

    def __init__(
        self,
        nodes,
        *,
        probe,
        push,
        health,
        stop_at,
        deadline,
        call_timeout,
        poll_interval,
        progress,
        quorum_grace=60.0,
        check_mode=False,
        sleep=None,
        release=None,
        reach_timeout=None,
        after_push=None,
    ):
        self.nodes = nodes
        self._probe, self._push, self._health = probe, push, health
        self._release = release or (lambda targets: None)  # the wiring may hold the probes' connections for the push
        self._after_push = after_push or (lambda: None)  # with stop_at=all: prepare the next round's API question
        # With a reach timeout, the first round's probes get at most that long, and a first round in which no node
        # answers at all while etcd has no quorum ends the loop: this controller has no route to the nodes.
        self.reach_timeout = reach_timeout
        self.answered_first: int | None = None
        self.unreachable = False
        self.stop_at = stop_at
        self.deadline = deadline
        self.call_timeout = call_timeout
        self.poll_interval = poll_interval
        self.quorum_grace = quorum_grace
        self.progress = progress
        self.check_mode = check_mode
        self._sleep = sleep or deadline.sleep
        self.rounds = 0
        self.quorum_at: float | None = None
        self.last_push_at: float | None = None
        self.topped_up = False
        self.view: dict = {"quorum": False, "etcd_readyz": "not asked yet"}
        self.would_push: list[str] = []
        self.started_at = time.time() - deadline.elapsed()  # wall clock of the loop's t0, for the nodes' timelines

    # -- one round ----------------------------------------------------------
    def _observe(self) -> list[ControlPlaneNode]:
        """Probe every node and ask the API, at the same time: an API that is slow to answer (or a client library
        still being imported) does not hold back the probes.

        With ``stop_at=all`` the answer changes no target (every attested waiting node gets its key), so those keys
        go out as soon as the probes are in, before the answer; they are returned. The first round does not ask the
        API at all when it pushed: its keys cannot have had an effect yet, and the client's import would compete for
        the CPU with the handshakes. That import starts once the keys are out (``after_push``), and every later
        round asks. Every other plan pushes after the answer, in ``run``."""
        timeout = self.deadline.bounded(self.call_timeout)
        if self.reach_timeout is not None and self.rounds == 1:
            timeout = min(timeout, self.reach_timeout)
        push_first = self.stop_at == ALL and not self.check_mode
        with ThreadPoolExecutor(max_workers=min(32, len(self.nodes)) + 1) as pool:
            health = None
            if not (push_first and self.rounds == 1):
                health = pool.submit(self._timed_health, answer_timeout(self.deadline, self.call_timeout))
            results = list(pool.map(lambda n: self._timed(self._probe_one, n, timeout), self.nodes))
            self._record_probes(results)
            early = plan_targets(self.nodes, ALL, False) if push_first else []
            if early:
                self._release(early)
                self._push_all(early)
            if health is None:
                if early:
                    self._after_push()
                    return early
                health = pool.submit(self._timed_health, answer_timeout(self.deadline, self.call_timeout))
            self.view, answered_at = health.result()
        if self.view.get("quorum") and self.quorum_at is None:
            self.quorum_at = answered_at
        return early

    def _record_probes(self, results) -> None:
        for node, (result, start, end) in zip(self.nodes, results, strict=False):
            if result.state in (WAITING, HOSTILE):  # the node presented evidence, and it was judged
                node.timeline.append(
                    {
                        "stage": "attestation",
                        "start": start,
                        "end": end,
                        "status": "ok" if result.state == WAITING else "failed",
                    }
                )
            node.state, node.detail = result.state, result.detail
            if result.evidence:
                node.attestation = result.evidence
            if result.state == WAITING:
                node.seen_waiting = True
                if node.holds_key:
                    node.holds_key = False
                    self.progress(
                        f"{node.name} waits for a key again after its push (it rebooted): it will be pushed again",
                        force=True,
                    )
            if result.state in (HOSTILE, FAILED):
                node.error = result.detail

    def _timed_health(self, timeout) -> tuple[dict, float]:
        view = self._health(timeout)
        return view, round(self.deadline.elapsed(), 2)

    def _probe_one(self, node, timeout) -> ProbeResult:
        try:
            return self._probe(node, timeout)
        except Exception as exc:  # noqa: BLE001 - one hostile or broken node must not stop the recovery of the others
            return ProbeResult(FAILED, f"probing {node.name} failed: {unexpected(exc)}")

    def _push_one(self, node, timeout) -> PushOutcome:
        try:
            return self._push(node, timeout)
        except Exception as exc:  # noqa: BLE001 - as in _probe_one
            return PushOutcome(False, error=f"pushing to {node.name} failed: {unexpected(exc)}")

    def _timed(self, call, node, timeout):
        start = round(self.deadline.elapsed(), 3)
        answer = call(node, timeout)
        return answer, start, round(self.deadline.elapsed(), 3)

    def _push_all(self, targets: list[ControlPlaneNode]) -> None:
        timeout = self.deadline.bounded(self.call_timeout)
        with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
            outcomes = list(pool.map(lambda n: self._timed(self._push_one, n, timeout), targets))
        self.last_push_at = self.deadline.elapsed()
        for node, (outcome, start, end) in zip(targets, outcomes, strict=False):
            node.timeline.append(
                {
                    "stage": "pushes",
                    "start": start,
                    "end": end,
                    "status": "ok" if outcome.ok else ("skipped" if outcome.stopped_waiting else "failed"),
                }
            )
            if outcome.ok:
                node.holds_key = True
                node.pushes += 1
                node.error = None
                node.push_seconds, node.protocol = outcome.seconds, outcome.protocol
                node.disk_uuid = outcome.disk_uuid or node.disk_uuid
            elif outcome.stopped_waiting:
                node.state = REFUSED
            else:
                node.push_failures += 1
                node.error = outcome.error

    def _summary(self, targets) -> str:
        waiting = [n.name for n in self.nodes if n.state == WAITING and not n.holds_key]
        silent = [n.name for n in self.nodes if n.state != WAITING and not n.holds_key]
        holding = [n.name for n in self.nodes if n.holds_key]
        api = "etcd quorum" if self.view.get("quorum") else f"no etcd quorum ({self.view.get('etcd_readyz')})"
        return (
            f"{api}; holding a key from this run: {len(holding)}/{quorum_size(len(self.nodes))} "
            f"needed; waiting: {', '.join(waiting) or 'none'}; not waiting, counted as down: {', '.join(silent) or 'none'}; "
            f"pushing to: {', '.join(n.name for n in targets) or 'none'}"
        )

    def _top_up(self) -> list[ControlPlaneNode]:
        """The other waiting nodes, once enough keys are out but quorum stayed away for the grace period."""
        if self.view.get("quorum") or self.stop_at != QUORUM or self.last_push_at is None:
            return []
        holding = [n.name for n in self.nodes if n.holds_key]
        if len(holding) < quorum_size(len(self.nodes)):
            return []
        silent_for = self.deadline.elapsed() - self.last_push_at
        if silent_for < self.quorum_grace:
            return []
        targets = plan_targets(self.nodes, ALL, False)
        if targets:
            self.topped_up = True
            self.progress(
                f"{', '.join(holding)} hold a key, yet etcd has no quorum {silent_for:.0f} s after the last push: "
                f"pushing to the other waiting nodes too ({', '.join(n.name for n in targets)})",
                force=True,
            )
        return targets

    def _finished(self) -> bool:
        if not self.view.get("quorum"):
            return False
        return self.stop_at == QUORUM or not any(n.state == WAITING and not n.holds_key for n in self.nodes)

    # -- the loop -------------------------------------------------------------
    def run(self) -> bool:
        """True when etcd quorum is back (and, with ``stop_at=all``, no node waits any more)."""
        while True:
            self.rounds += 1
            pushed = self._observe()
            if self.rounds == 1:
                self.answered_first = sum(1 for n in self.nodes if n.state in ANSWERED)
                if self.reach_timeout is not None and not self.answered_first and not self.view.get("quorum"):
                    self.unreachable = True
                    self.progress(
                        "round 1: no control-plane node answered on its own address, and etcd has no quorum", force=True
                    )
                    return False
            # A round that pushed early pushed to every waiting node; one whose push failed waits for the next round.
            targets = (
                []
                if pushed
                else plan_targets(self.nodes, self.stop_at, bool(self.view.get("quorum"))) or self._top_up()
            )
            summary = self._summary(pushed + targets)
            self.progress(f"round {self.rounds}: {summary}", force=bool(pushed or targets), key=summary)
            self._release(targets)
            if self.check_mode:
                self.would_push = [n.name for n in targets]
                return bool(self.view.get("quorum"))
            if targets:
                self._push_all(targets)
            elif pushed:
                pass  # the round's keys went out before the API answered: observe their effect next round
            elif self._finished():
                return True
            if self.deadline.expired():
                return False
            self._sleep(self.poll_interval)

    def result(self) -> dict:
        return {
            "quorum": bool(self.view.get("quorum")),
            "etcd_readyz": self.view.get("etcd_readyz"),
            "api_reachable": self.view.get("api_reachable", True),
            "seconds_to_quorum": self.quorum_at,
            "started_at": round(self.started_at, 3),
            "rounds": self.rounds,
            "quorum_size": quorum_size(len(self.nodes)),
            "keys_pushed": sum(n.pushes for n in self.nodes),
            "topped_up": self.topped_up,
            "reach": {"answered": self.answered_first, "total": len(self.nodes), "reachable": not self.unreachable},
            "nodes": [n.report() for n in self.nodes],
        }

    def failure_message(self) -> str:
        pushed = [n.name for n in self.nodes if n.pushes]
        down = [f"{n.name} ({n.detail})" for n in self.nodes if n.state not in (WAITING,) and not n.holds_key]
        failed = [f"{n.name}: {n.error}" for n in self.nodes if n.error]
        parts = [
            f"etcd quorum not restored within {self.deadline.seconds:g} s",
            f"Kubernetes API says: {self.view.get('etcd_readyz')}",
            f"keys pushed: {len(pushed)} ({', '.join(pushed) or 'none'}) of {quorum_size(len(self.nodes))} needed",
        ]
        if down:
            parts.append("down: " + "; ".join(down))
        if failed:
            parts.append("failed: " + "; ".join(failed))
        return ". ".join(parts)
