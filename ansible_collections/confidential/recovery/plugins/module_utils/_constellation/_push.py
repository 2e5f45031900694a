# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Push a recovery key to Constellation nodes: directly to one node, or through the load balancer.

Every connection is attested before a key byte is written (``_atls.connect`` validates the
peer first). A closed recovery port means the node is no longer waiting: that is ``ok``,
not an error, so reruns are idempotent.
"""

from __future__ import annotations

import random
import ssl
import time
from dataclasses import dataclass, field

from .._kube._cluster_health import answer_timeout
from .._net._addresses import join_host_port
from .._net._atls import (
    AtlsError,
    AttestationFailed,
    ConnectionRefused,
    HandshakeDropped,
    HandshakeTimeout,
    Unreachable,
    connect,
)
from .._net._deadline import Deadline
from .._net._grpc_h2 import GrpcError
from ._keys import MasterSecret, canonical_disk_uuid
from ._quorum_loop import ERROR, HOSTILE, REFUSED, UNREACHABLE, WAITING, ProbeResult
from ._rpc import (
    AUTO,
    KEYSERVICE,
    STREAM,
    UNARY,
    is_stream_fallback,
    is_unimplemented,
    push_state_disk_key,
    recover_stream,
    recover_unary,
)

NOT_WAITING = "not_waiting"
PUSHED = "pushed"
WOULD_PUSH = "would_push"


class PushError(Exception):
    """A push that failed in a way the user must look at (never carries key material)."""

    def __init__(self, message: str, pushed: int = 0):
        super().__init__(message)
        self.pushed = pushed  # keys that did go out before the failure (load-balancer runs)


@dataclass
class Endpoint:
    host: str
    port: int
    validator: object
    timeout: float

    @property
    def address(self) -> str:
        return join_host_port(self.host, self.port)

    def open(self):
        return connect(self.host, self.port, self.validator, timeout=self.timeout)

    def attest(self) -> tuple[ProbeResult, object | None]:
        """An attested handshake, judged as the push loop judges a probe: the verdict, and the open connection when
        the node waits for a key (nothing has been sent over it), else None."""
        try:
            conn = self.open()
        except ConnectionRefused:
            return ProbeResult(
                REFUSED, f"{self.address} refuses connections: booting, down, unlocked, or a wrong port"
            ), None
        except Unreachable as exc:
            return ProbeResult(UNREACHABLE, str(exc)), None
        except AttestationFailed as exc:
            return ProbeResult(HOSTILE, f"attestation failed, nothing sent: {exc}"), None
        except AtlsError as exc:
            return ProbeResult(ERROR, str(exc)), None
        return ProbeResult(WAITING, f"{self.address} waits for a key and passed attestation", conn.evidence), conn


@dataclass
class PushResult:
    status: str
    protocol: str | None = None
    disk_uuid: str | None = None
    elapsed: float = 0.0
    messages: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status in (PUSHED, WOULD_PUSH)


def describe_grpc(error: GrpcError, endpoint: Endpoint) -> str:
    return f"{endpoint.address}: recovery call failed: {error}"


# The peer closed the connection before it answered. Through a load balancer this is the node behind it going away
# (an earlier push has just unlocked it): whether this key arrived is unknown, and trying again is safe.
CONNECTION_LOST = (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError)


def describe_push_failure(error: Exception, endpoint: Endpoint) -> str:
    """One message for whatever a push raised; anything unexpected is the server's malformed answer."""
    if isinstance(error, GrpcError):
        return describe_grpc(error, endpoint)
    if isinstance(error, (AtlsError, PushError, ValueError)):
        return str(error)
    return f"{endpoint.address}: malformed answer from the recovery server ({error.__class__.__name__}: {error})"


def probe(endpoint: Endpoint) -> tuple[bool, str]:
    """Attest the recovery server and hang up. Returns (waiting, reason)."""
    try:
        conn = endpoint.open()
    except ConnectionRefused:
        return False, (
            f"{endpoint.address} refuses connections: the node is not waiting for a key "
            "(already unlocked, still booting, or a wrong port)"
        )
    except AtlsError as exc:
        raise PushError(str(exc)) from exc
    conn.close()
    return True, f"{endpoint.address} waits for a key and passed attestation"


def _push_once(endpoint: Endpoint, protocol: str, master: MasterSecret, disk_uuid: str | None, conn=None) -> str | None:
    """One attested connection (``conn``, or a new one), one call. Returns the disk UUID when the node told it."""
    conn = conn or endpoint.open()
    try:
        if protocol == UNARY:
            recover_unary(conn.sock, endpoint.address, master, endpoint.timeout)
            return disk_uuid
        if protocol == STREAM:
            return recover_stream(conn.sock, endpoint.address, master, endpoint.timeout)
        if not disk_uuid:
            raise PushError(
                f"{endpoint.address} runs the pre-v2.0 key service, which needs the node's disk UUID: "
                "look it up with confidential.recovery.disk_uuid_lookup and pass disk_uuid"
            )
        push_state_disk_key(conn.sock, endpoint.address, master, disk_uuid, endpoint.timeout)
        return disk_uuid
    finally:
        conn.close()


def push_detecting(
    endpoint: Endpoint, protocol: str, master: MasterSecret, disk_uuid: str | None, conn=None
) -> tuple[str, str | None]:
    """Push with ``protocol``; with ``auto`` try unary, then fall back as the node's answer tells.

    ``conn``, an attested connection to the node (the probe's), carries the first call; a fallback opens its own.
    """
    if protocol != AUTO:
        return protocol, _push_once(endpoint, protocol, master, disk_uuid, conn)
    try:
        return UNARY, _push_once(endpoint, UNARY, master, disk_uuid, conn)
    except GrpcError as exc:
        if is_stream_fallback(exc):
            return STREAM, _push_once(endpoint, STREAM, master, disk_uuid)
        if is_unimplemented(exc):
            return KEYSERVICE, _push_once(endpoint, KEYSERVICE, master, disk_uuid)
        raise


def push_to_node(
    endpoint: Endpoint, protocol: str, master: MasterSecret, disk_uuid: str | None = None, check_mode: bool = False
) -> PushResult:
    started = time.monotonic()
    if disk_uuid:
        disk_uuid = canonical_disk_uuid(disk_uuid)
    waiting, reason = probe(endpoint)
    if not waiting:
        return PushResult(NOT_WAITING, messages=[reason], elapsed=round(time.monotonic() - started, 3))
    if check_mode:
        return PushResult(
            WOULD_PUSH,
            protocol=protocol,
            disk_uuid=disk_uuid,
            messages=[reason],
            elapsed=round(time.monotonic() - started, 3),
        )
    try:
        used, announced = push_detecting(endpoint, protocol, master, disk_uuid)
    except ConnectionRefused:
        # Another client (or the node's own rejoin) won the race between our probe and our push.
        return PushResult(
            NOT_WAITING,
            messages=[f"{endpoint.address} stopped waiting before the push"],
            elapsed=round(time.monotonic() - started, 3),
        )
    except (PushError, ValueError):
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed answer is reported, not traced
        raise PushError(describe_push_failure(exc, endpoint)) from exc
    return PushResult(PUSHED, protocol=used, disk_uuid=announced, elapsed=round(time.monotonic() - started, 3))


@dataclass
class LoadBalancerRun:
    pushed: int = 0
    protocols: list = field(default_factory=list)
    disk_uuids: list = field(default_factory=list)
    attempts: int = 0
    stop_reason: str = ""
    elapsed: float = 0.0


def push_through_load_balancer(
    endpoint: Endpoint,
    protocol: str,
    master: MasterSecret,
    interval: float,
    max_pushes: int | None,
    deadline_seconds: float,
    progress=None,
    done=None,
) -> LoadBalancerRun:
    """The upstream ``constellation recover`` loop: one node per connection until none waits.

    Unavailable (refused, nothing behind the LB) is retried once after ``interval``, and, with ``done``, until
    ``done`` says the cluster is back or the deadline passes (a flapping pool refuses between good spells). A handshake
    that times out or is dropped, or a connection closed before the answer (the LB still routes to a node that just
    left), is retried until the deadline; a peer that does not speak TLS, fails attestation or answers with anything else
    stops the run at once, with its cause. Unlike upstream, a run stops after ``max_pushes``, when
    ``done(timeout)`` (the cluster's own word, for example etcd quorum) returns a reason, and every
    connection is bounded by the deadline.
    """
    run = LoadBalancerRun()
    deadline = Deadline(deadline_seconds)
    unavailable_in_row = 0
    last_cause = ""
    while max_pushes is None or run.pushed < max_pushes:
        reason = done(answer_timeout(deadline, endpoint.timeout)) if done and run.attempts else None
        if reason:
            run.stop_reason = reason
            break
        if deadline.expired():
            raise PushError(
                f"{endpoint.address}: gave up after {deadline_seconds:g}s with {run.pushed} key(s) pushed; "
                f"last error: {last_cause or 'none'}",
                pushed=run.pushed,
            )
        run.attempts += 1
        attempt = Endpoint(endpoint.host, endpoint.port, endpoint.validator, deadline.bounded(endpoint.timeout))
        try:
            try:
                used, announced = push_detecting(attempt, protocol, master, None)
            except GrpcError as exc:
                if exc.code_name != "Unavailable":
                    raise PushError(describe_grpc(exc, endpoint), pushed=run.pushed) from exc
                raise Unreachable(f"{endpoint.address}: {exc}") from exc
        except (ConnectionRefused, Unreachable) as exc:
            unavailable_in_row += 1
            # Without the cluster's word, a second refusal in a row means nothing waits (upstream's rule). With it,
            # a refusal says only that the pool is empty right now (a flapping load balancer): the cluster is not
            # done, so keep trying until it is, or until the deadline.
            if unavailable_in_row >= 2 and done is None:
                run.stop_reason = f"no control-plane node waits behind {endpoint.address} ({exc})"
                break
            last_cause = str(exc)
            _sleep(deadline, interval, progress, f"{endpoint.address} unavailable; retrying in {interval:g}s")
            continue
        except (HandshakeTimeout, HandshakeDropped) as exc:
            last_cause = str(exc)
            _sleep(deadline, interval, progress, f"load balancer not ready ({exc}); retrying in {interval:g}s")
            continue
        except CONNECTION_LOST as exc:
            last_cause = f"{endpoint.address} closed the connection before answering ({exc.__class__.__name__})"
            _sleep(deadline, interval, progress, f"{last_cause}; retrying in {interval:g}s")
            continue
        except AtlsError as exc:
            raise PushError(f"{exc}; stopping: retrying cannot help", pushed=run.pushed) from exc
        except Exception as exc:  # noqa: BLE001 - a malformed answer is reported, not traced
            raise PushError(describe_push_failure(exc, endpoint), pushed=run.pushed) from exc
        unavailable_in_row = 0
        run.pushed += 1
        run.protocols.append(used)
        if announced:
            run.disk_uuids.append(announced)
        if progress:
            progress(f"pushed recovery key {run.pushed} through {endpoint.address}")
    else:
        run.stop_reason = f"pushed the requested {max_pushes} keys"
    run.elapsed = round(deadline.elapsed(), 3)
    return run


def _sleep(deadline: Deadline, interval: float, progress, message: str) -> None:
    if progress:
        progress(message)
    deadline.sleep(interval * random.uniform(0.9, 1.1))
