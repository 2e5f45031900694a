# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""coordinator_recover for several Coordinators (a StatefulSet with replicas): find them through the Kubernetes API,
attest each, send the seed to at most one, and only when no verified Coordinator holds the state; then wait for the
others to recover from their peers, and report each one.

Upstream's Coordinators recover from a ready peer by themselves, and Contrast v1.9 and v1.10 accept a user recovery
even beside ready peers, which leaves the set with two mesh CAs (docs/contrast-protocol.md, Several Coordinators). So
the seed goes out only when every Coordinator that answered with verified evidence is in recovery mode, to the
lowest ordinal of them; a Coordinator whose evidence fails never counts as holding the state and never gets the seed.
"""

from __future__ import annotations

import json
import time

from .._contrast._coordinator import ALREADY, RECOVERED, WOULD_RECOVER, CoordinatorError, CoordinatorRecovery
from .._contrast._module import require_libraries
from .._contrast._workspace import Workspace, public_key_der
from .._kube._auth import KubeAuth
from .._kube._cluster_health import ClusterUnreachable, api_client
from .._kube._coordinator_pods import CoordinatorPod, coordinator_pods, handled_as_a_set, looks_for_several
from .._kube._port_forward import PortForwardError, Tunnel, dialer, list_pods
from .._net._addresses import AddressError, join_host_port
from .._net._atls import AtlsError, AttestationFailed
from .._net._grpc_h2 import GrpcError

USER_API_PORT = 1313
POLL_SECONDS = 2.0
FROM_PEERS = "recovered_from_peers"
WOULD_WAIT = "would_wait_for_peers"
# A Coordinator's outcome in the report.
BY_SEED, FROM_PEER, WAS_READY, WAITING, UNVERIFIED = (
    "recovered_by_seed",
    "recovered_from_peer",
    "ready",
    "waiting",
    "unverified",
)
_STATE_WORDS = {
    "stale": "in recovery mode: no ready peer has handed it the state yet (upstream's Coordinators ask every 15 s)",
    "not_running": "not running",
    "error": "not answering",
}


class Member:
    """One Coordinator of the set, and what this run saw of it."""

    def __init__(self, pod: CoordinatorPod):
        self.pod = pod
        self.recovery: CoordinatorRecovery | None = None
        self.first_state: str | None = None
        self.state = "unknown"
        self.detail = ""
        self.seeded = False
        self.planned = False  # the one the seed goes to
        self.ready_at: float | None = None
        self.ready_after: float | None = None

    def outcome(self) -> str:
        if self.state == "ready":
            if self.seeded:
                return BY_SEED
            return WAS_READY if self.first_state == "ready" else FROM_PEER
        return UNVERIFIED if self.state == "unverified" else WAITING

    def report(self, waited: float | None) -> dict:
        outcome = self.outcome()
        if outcome == BY_SEED:
            why = "received the seed from this run"
        elif outcome == WAS_READY:
            why = "held the state when first probed; left alone"
        elif outcome == FROM_PEER:
            why = f"recovered from a ready peer {self.ready_after} s into the run; no seed was sent to it"
        elif outcome == UNVERIFIED:
            why = f"never trusted, never sent anything: {self.detail}"
        elif waited is None and self.state == "stale":  # check mode: the plan, before anything was sent
            why = "in recovery mode; " + (
                "would receive the seed from this run" if self.planned else "would recover from a ready peer"
            )
        else:
            still = _STATE_WORDS.get(self.state, self.state)
            after = f" after waiting {waited:g} s" if waited is not None else ""
            seeded = "received the seed from this run, but is " if self.seeded else ""
            why = f"{seeded}still {still}{after}" + (f": {self.detail}" if self.detail else "")
        return {
            "name": self.pod.name,
            "ordinal": self.pod.ordinal,
            "first_state": self.first_state,
            "state": self.state,
            "outcome": outcome,
            "why": why,
            "ready_after": self.ready_after,
            "ready_at": self.ready_at,
        }


class CoordinatorSet:
    def __init__(self, module, workspace: Workspace, trust_anchor: bytes | None, client, pods: list[CoordinatorPod]):
        self.module, self.params = module, module.params
        self.workspace, self.trust_anchor = workspace, trust_anchor
        self.client = client
        self.namespace = self.params["coordinator_namespace"]
        self.started = time.monotonic()
        self.members = [Member(pod) for pod in pods]

    def describe(self) -> str:
        return (
            f"the {len(self.members)} pods labelled {self.params['coordinator_selector']} in namespace {self.namespace}"
        )

    def _listed(self) -> list[CoordinatorPod]:
        return listed_pods(self.client, self.params)

    def _reach(self, pod: CoordinatorPod) -> CoordinatorRecovery:
        if self.params["coordinator_reach"] == "pod_ip":
            params = dict(self.params, coordinator=join_host_port(pod.ip, USER_API_PORT))
            return CoordinatorRecovery(params, self.workspace, self.trust_anchor)
        tunnel = Tunnel(self.namespace, pod.name, USER_API_PORT)
        dial = dialer(self.client, tunnel, self.params["timeout"])
        return CoordinatorRecovery(self.params, self.workspace, self.trust_anchor, (tunnel, dial))

    def probe(self, member: Member) -> None:
        pod = member.pod
        if not pod.running or (self.params["coordinator_reach"] == "pod_ip" and not pod.ip):
            member.state, member.detail = "not_running", f"pod phase {pod.phase}, pod IP {pod.ip or 'none'}"
        else:
            try:
                member.recovery = member.recovery or self._reach(pod)
                member.state, member.detail = member.recovery.probe(), ""
            except AttestationFailed as exc:
                member.state, member.detail = "unverified", f"attestation failed: {exc}"
            except (AtlsError, CoordinatorError, GrpcError, AddressError, ConnectionError) as exc:
                member.state, member.detail = "error", str(exc)
            except Exception as exc:  # noqa: BLE001  # pylint: disable=broad-except  # one pod costs only itself
                member.state, member.detail = "error", f"{type(exc).__name__}: {exc}"
        if member.first_state is None:
            member.first_state = member.state
        if member.state == "ready" and member.ready_at is None:
            member.ready_at = time.time()
            member.ready_after = round(time.monotonic() - self.started, 2)

    def plan(self) -> tuple[Member | None, str]:
        """The one Coordinator to send the seed to (or None), and why."""
        ready = [m.pod.name for m in self.members if m.state == "ready"]
        stale = [m for m in self.members if m.state == "stale"]
        if ready:
            waiting = f"; {', '.join(m.pod.name for m in stale)} will recover from it" if stale else ""
            return None, f"{', '.join(ready)} hold(s) the state, so no seed is sent{waiting}"
        if stale:
            return stale[0], (
                f"no verified Coordinator holds the state; {stale[0].pod.name} is the lowest-numbered one in recovery "
                "mode, and the others recover from it"
            )
        return None, "no Coordinator could be verified, ready or in recovery mode: nothing to send the seed to"

    def wait_for_peers(self) -> None:
        """Until every Coordinator is ready or refused, or peer_wait_timeout; pods the StatefulSet starts meanwhile
        (OrderedReady starts the next one only when the one before is Ready) join the set."""
        deadline = time.monotonic() + self.params["peer_wait_timeout"]
        while True:
            waiting = [m for m in self.members if m.state not in ("ready", "unverified")]
            left = deadline - time.monotonic()
            if not waiting or left <= 0:
                return
            time.sleep(min(POLL_SECONDS, left))
            try:
                fresh = {pod.name: pod for pod in self._listed()}
            except CoordinatorError:
                fresh = {}
            known = {m.pod.name for m in self.members}
            self.members += [Member(pod) for name, pod in fresh.items() if name not in known]
            for member in [m for m in self.members if m.state not in ("ready", "unverified")]:
                member.pod = fresh.get(member.pod.name, member.pod)
                self.probe(member)

    def reports(self, waited: float | None) -> list[dict]:
        return [
            m.report(waited) for m in sorted(self.members, key=lambda m: (m.pod.ordinal is None, m.pod.ordinal or 0))
        ]


def listed_pods(client, params: dict) -> list[CoordinatorPod]:
    try:
        items = list_pods(client, params["coordinator_namespace"], params["coordinator_selector"], params["timeout"])
    except PortForwardError as exc:
        raise CoordinatorError(str(exc)) from exc
    return coordinator_pods(items)


def find_set(module) -> tuple[object, list[CoordinatorPod]] | None:
    """(API client, pods) when coordinator_recover should handle a set: replicas=all, or replicas=auto with an API
    named and more than one Coordinator pod listed. None for the single-Coordinator path."""
    params = module.params
    auth = KubeAuth.from_params(params)
    if params["port_forward"] is not None:
        if params["replicas"] == "all":
            raise CoordinatorError("replicas=all reaches every Coordinator pod itself: drop port_forward")
        return None
    if not looks_for_several(params["replicas"], auth.explicit):
        return None
    require_libraries(module, ("kubernetes",))
    try:
        client = api_client(auth, params["timeout"])
        pods = listed_pods(client, params)
    except (ClusterUnreachable, CoordinatorError) as exc:
        if params["replicas"] == "all":
            raise CoordinatorError(f"cannot list the Coordinator pods: {exc}") from exc
        if params["coordinator"]:
            module.warn(
                f"could not list the Coordinator pods ({exc}); treating {params['coordinator']} as the only one"
            )
        return None
    if params["replicas"] == "all" and not pods:
        raise CoordinatorError(
            f"no pod labelled {params['coordinator_selector']} in namespace {params['coordinator_namespace']}"
        )
    return (client, pods) if handled_as_a_set(params["replicas"], pods) else None


def _manifest_and_mesh(member: Member, expected) -> tuple[bool, bytes]:
    """Whether ``member`` serves ``expected`` as its active manifest, and its mesh CA's public key."""
    try:
        served = member.recovery.api.get_manifests()
    except (GrpcError, AtlsError) as exc:
        raise CoordinatorError(f"{member.pod.name}: asking for its manifests failed: {exc}") from exc
    try:
        same = bool(served.Manifests) and json.loads(served.Manifests[-1]) == expected
    except ValueError:
        same = False
    return same, public_key_der(served.MeshCA)


def _verified(ready: list[Member], expected, manifest_file: str) -> tuple[dict, object]:
    """The verify() outcome of the first of ``ready`` (the one that got the seed, if any); every other one must serve
    the same manifest and the same mesh CA, or the set has split."""
    lead = ready[0]
    outcome = lead.recovery.verify()
    served = outcome.pop("served")
    if not outcome["manifest_verified"]:
        raise CoordinatorError(f"{lead.pod.name} serves a manifest that differs from {manifest_file}")
    for member in ready[1:]:
        same_manifest, mesh = _manifest_and_mesh(member, expected)
        if not same_manifest:
            raise CoordinatorError(f"{member.pod.name} serves a manifest that differs from {manifest_file}")
        if mesh != public_key_der(served.MeshCA):
            raise CoordinatorError(
                f"{member.pod.name} serves another mesh CA than {lead.pod.name}: the set has split (a recovery beside "
                "a ready peer does that); restart the Coordinators that differ so that they recover from one peer"
            )
    return outcome, served


def _check(module, coordinators: CoordinatorSet, chosen: Member | None, why: str) -> None:
    """Check mode: the plan and its reason; the seed share must decrypt, and the ready ones serve the manifest."""
    workspace = coordinators.workspace
    workspace.seed_and_salt()
    workspace.check_owner_authorized()
    expected = workspace.manifest()
    stale = any(m.state == "stale" for m in coordinators.members)
    wrong = [m.pod.name for m in coordinators.members if m.state == "ready" and not _manifest_and_mesh(m, expected)[0]]
    unverified = [m.pod.name for m in coordinators.members if m.state == "unverified"]
    result = dict(
        changed=chosen is not None,
        status=WOULD_RECOVER if chosen else (WOULD_WAIT if stale else ALREADY),
        would_recover=chosen.pod.name if chosen else None,
        reason=why,
        coordinators=coordinators.reports(None),
        coordinator_found_by=coordinators.describe(),
        seeds_sent=0,
        seed_share_checked=True,
        mesh_ca_changed=False,
    )
    if wrong or unverified or (chosen is None and not any(m.state == "ready" for m in coordinators.members)):
        problems = [f"{', '.join(wrong)} serve(s) a manifest other than {workspace.manifest_file}"] if wrong else []
        problems += [f"{', '.join(unverified)} failed attestation"] if unverified else []
        module.fail_json(msg="; ".join(problems + [why]) + " (check mode sent nothing)", **result)
    module.exit_json(
        msg=f"{why} (check mode: attested every Coordinator, the seed share decrypts; nothing sent)", **result
    )


def run_set(module, workspace: Workspace, trust_anchor: bytes | None, found) -> None:
    params = module.params
    coordinators = CoordinatorSet(module, workspace, trust_anchor, *found)
    expected = workspace.manifest()
    for member in coordinators.members:
        coordinators.probe(member)
    chosen, why = coordinators.plan()
    if chosen is not None:
        chosen.planned = True
    if module.check_mode:
        _check(module, coordinators, chosen, why)
    result = dict(coordinator_found_by=coordinators.describe(), reason=why, seeds_sent=0)

    def fail(msg: str, **extra) -> None:
        module.fail_json(
            msg=msg,
            changed=result["seeds_sent"] > 0,
            coordinators=coordinators.reports(params["peer_wait_timeout"]),
            **result,
            **extra,
        )

    if chosen is None and not any(m.state == "ready" for m in coordinators.members):
        fail(why)
    if chosen is not None:
        try:
            seeded = bool(chosen.recovery.recover())
        except CoordinatorError as exc:  # the Coordinator's own refusal: it did not take the seed
            fail(f"{chosen.pod.name}: {exc}")
            return
        except (AtlsError, GrpcError, ConnectionError) as exc:
            fail(f"{chosen.pod.name}: the recovery call broke off ({exc}); whether the seed arrived is unknown, and the "
                 "next run probes every Coordinator again before it sends anything")  # fmt: skip
            return
        chosen.seeded = seeded  # "already recovered": a peer was faster, and it counts as recovered from one
        result.update(seeds_sent=int(seeded), recovered_coordinator=chosen.pod.name if seeded else None)
        coordinators.probe(chosen)
    coordinators.wait_for_peers()
    reports = coordinators.reports(params["peer_wait_timeout"])
    behind = [r["name"] for r in reports if r["outcome"] in (WAITING, UNVERIFIED)]
    if behind:
        fail(f"{', '.join(behind)} did not recover within peer_wait_timeout ({params['peer_wait_timeout']} s) or "
             "could not be verified; see coordinators for each one's state and why")  # fmt: skip
    ready = sorted((m for m in coordinators.members if m.state == "ready"), key=lambda m: not m.seeded)
    lead = ready[0]
    try:
        outcome, served = _verified(ready, expected, params["manifest"])
    except (CoordinatorError, GrpcError, AtlsError) as exc:
        fail(str(exc))
        return
    written = lead.recovery.write_verify_outputs(served, params["record_mesh_ca"])
    from_peers = [r["name"] for r in reports if r["outcome"] == FROM_PEER]
    seeded = [r["name"] for r in reports if r["outcome"] == BY_SEED]
    parts = [f"{', '.join(seeded)} recovered by the seed share"] if seeded else ["no seed sent"]
    parts += [f"{', '.join(from_peers)} recovered from a peer"] if from_peers else []
    module.exit_json(
        changed=bool(seeded),
        status=RECOVERED if seeded else (FROM_PEERS if from_peers else ALREADY),
        coordinator=lead.recovery.address,
        coordinators=reports,
        verify_files=written,
        elapsed=round(time.monotonic() - coordinators.started, 3),
        **result,
        **outcome,
        msg="; ".join(parts) + f"; manifest verified on {len(ready)} Coordinator(s)",
    )
