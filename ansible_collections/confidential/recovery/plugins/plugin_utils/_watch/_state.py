# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What the cluster watch concludes from one look at a cluster, and which events that makes.

No clock and no network here: a look and the time come in, events go out, so that every transition can be tested
with time under the test's control.

A cluster is in one of five conditions, the first that holds:

- ``nodes_waiting``: etcd has no quorum and at least one control-plane node serves its recovery endpoint and passed
  attestation. This is what a recovery run needs: a key pushed to that node is what brings quorum back.
- ``quorum_lost``: etcd has no quorum (or the API does not answer), and no node waits. Nothing to recover yet: the
  nodes are still booting, or this controller cannot reach them. The event says which.
- ``coordinator_waiting``: etcd has quorum and the Contrast Coordinator reports recovery mode.
- ``healing``: quorum is back, but a node is not Ready yet or the Coordinator did not answer as ready.
- ``healthy``: quorum, every node Ready, and the Coordinator (where watched) ready.

Events: entering any condition but ``healing`` and ``healthy`` emits an event of its name; while a cluster stays in
one of them, the event is sent again every ``repeat_after`` seconds (so that a rulebook's cooldown can expire and a
failed recovery be tried again). Reaching ``healthy`` from any other condition emits ``recovered``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

NODES_WAITING = "nodes_waiting"
QUORUM_LOST = "quorum_lost"
COORDINATOR_WAITING = "coordinator_waiting"
HEALING = "healing"
HEALTHY = "healthy"
RECOVERED = "recovered"
EVENT_TYPES = (QUORUM_LOST, NODES_WAITING, COORDINATOR_WAITING, RECOVERED)

# A node's answer to the probe (an attested TLS handshake, dropped before any application byte).
WAITING = "waiting"
NOT_WAITING = "not_waiting"
UNREACHABLE = "unreachable"
ATTESTATION_FAILED = "attestation_failed"

# The Coordinator's answer to GetManifests.
COORDINATOR_READY = "ready"
COORDINATOR_RECOVERY_MODE = "recovery_mode"

# Answers by which the API refuses this client, not the cluster's state: the watch backs off.
REFUSALS = ("HTTP 401", "HTTP 403", "HTTP 429")
DETAIL_LIMIT = 300


def _cut(text) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT] + "..."


@dataclass(frozen=True)
class Look:
    """One look at a cluster. ``api`` is what the Kubernetes API said (quorum, etcd_readyz, api_reachable,
    not_ready_nodes); ``nodes`` maps each control-plane node to its probe's answer; ``coordinator`` is None when the
    Coordinator is not watched."""

    api: dict
    nodes: dict = field(default_factory=dict)
    node_details: dict = field(default_factory=dict)
    coordinator: str | None = None
    coordinator_detail: str = ""

    @property
    def quorum(self) -> bool:
        return self.api.get("quorum") is True

    @property
    def waiting(self) -> list[str]:
        return sorted(name for name, answer in self.nodes.items() if answer == WAITING)

    @property
    def refused(self) -> bool:
        return str(self.api.get("etcd_readyz") or "").startswith(REFUSALS)

    def facts(self) -> dict:
        """What the event carries: the answers, never a secret (the watch holds none)."""
        return {
            "quorum": self.quorum,
            "api_reachable": self.api.get("api_reachable", True) is not False,
            "etcd_readyz": _cut(self.api.get("etcd_readyz")),
            "not_ready_nodes": sorted(str(n) for n in self.api.get("not_ready_nodes") or []),
            "nodes_waiting": self.waiting,
            "nodes": dict(sorted(self.nodes.items())),
            "node_details": {name: _cut(text) for name, text in sorted(self.node_details.items()) if text},
            "coordinator": self.coordinator,
            "coordinator_detail": _cut(self.coordinator_detail),
        }


def condition(look: Look) -> tuple[str, str]:
    """The cluster's condition, and why, in words."""
    waiting = look.waiting
    if not look.quorum:
        api = _cut(look.api.get("etcd_readyz") or "no answer")
        if waiting:
            return NODES_WAITING, (
                f"etcd has no quorum ({api}); {len(waiting)} of {len(look.nodes)} control-plane nodes wait for a key "
                f"and passed attestation: {', '.join(waiting)}"
            )
        silent = sorted(look.nodes.items())
        answers = "; ".join(f"{name}: {answer}" for name, answer in silent) or "no control-plane node in the inventory"
        return QUORUM_LOST, f"etcd has no quorum ({api}) and no control-plane node waits for a key ({answers})"
    if look.coordinator == COORDINATOR_RECOVERY_MODE:
        return (
            COORDINATOR_WAITING,
            f"etcd has quorum; the Coordinator is in recovery mode ({_cut(look.coordinator_detail)})",
        )
    not_ready = sorted(str(n) for n in look.api.get("not_ready_nodes") or [])
    if not_ready:
        return HEALING, f"etcd has quorum; not Ready yet: {', '.join(not_ready)}"
    if look.coordinator not in (None, COORDINATOR_READY):
        return HEALING, f"etcd has quorum; the Coordinator: {look.coordinator} ({_cut(look.coordinator_detail)})"
    return HEALTHY, "etcd has quorum, every node is Ready" + (", the Coordinator is ready" if look.coordinator else "")


@dataclass
class ClusterWatch:
    """One cluster's condition over time. ``update`` returns the events one look makes."""

    cluster: str
    repeat_after: float = 300.0
    state: str | None = None
    since: float | None = None
    last_event_at: float | None = None
    refusals: int = 0

    def update(self, look: Look, now: float) -> list[dict]:
        self.refusals = self.refusals + 1 if look.refused else 0
        state, why = condition(look)
        previous = self.state
        if state != previous:
            self.state, self.since = state, now
        if state == HEALTHY:
            kind = RECOVERED if previous not in (None, HEALTHY) else None
        elif state == HEALING:
            kind = None
        elif state != previous or self.last_event_at is None or now - self.last_event_at >= self.repeat_after:
            kind = state
        else:
            kind = None
        if kind is None:
            return []
        self.last_event_at = now
        return [
            {
                "confidential_recovery": {
                    "type": kind,
                    "cluster": self.cluster,
                    "condition": state,
                    "why": why,
                    "since": round(self.since, 3),
                    "observed_at": round(now, 3),
                    "repeated": state == previous and kind != RECOVERED,
                    "facts": look.facts(),
                }
            }
        ]


def next_delay(interval: float, jitter: float, refusals: int, max_backoff: float, rng: random.Random) -> float:
    """Seconds until the next look: ``interval`` give or take ``jitter`` (a fraction), doubled for each refusal in a
    row up to ``max_backoff``. Never below a tenth of a second, never above ``max_backoff``."""
    base = interval * (2 ** min(refusals, 16))
    spread = base * jitter
    return min(max_backoff, max(0.1, base + rng.uniform(-spread, spread)))
