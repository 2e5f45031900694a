# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the quorum_recover module: the round loop wired to aTLS probes, pushes and the Kubernetes API."""

from __future__ import annotations

import os
import threading
import time

from ansible.module_utils.basic import missing_required_lib

from .._constellation._keys import canonical_disk_uuid
from .._constellation._module import PUSHING, master_secret, require_libraries, validator
from .._constellation._push import Endpoint, describe_push_failure, push_detecting
from .._constellation._quorum_loop import (
    ALL,
    ControlPlaneNode,
    ProbeResult,
    PushOutcome,
    QuorumLoop,
)
from .._constellation._rpc import recovery_port
from .._kube import _client
from .._kube._auth import K8S_AUTH, KubeAuth
from .._kube._cluster_health import ClusterUnreachable, check_api_credentials, cluster_health, warned
from .._module._options import PROGRESS, module_arguments
from .._net._addresses import AddressError, check_host
from .._net._atls import ConnectionRefused
from .._net._deadline import Deadline, ProgressLog, file_sink
from .._net._grpc_h2 import GrpcError

# AnsibleModule's keyword arguments (with supports_check_mode): the module file passes them, and so does the action
# plugin when it runs the module in the controller's own process.
ARGUMENTS = module_arguments(
    *PUSHING,
    K8S_AUTH,
    PROGRESS,
    nodes=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            address=dict(type="str", required=True),
            disk_uuid=dict(type="str"),
        ),
    ),
    port=dict(type="int"),
    protocol=dict(type="str", choices=["auto", "unary", "stream", "keyservice"], default="auto"),
    stop_at=dict(type="str", choices=["quorum", "all", "quorum_then_all"], default="quorum"),
    wait_timeout=dict(type="float", default=300),
    poll_interval=dict(type="float", default=0.5),
    quorum_grace=dict(type="float", default=60),
    reach_timeout=dict(type="float"),
)


def _nodes(params) -> list[ControlPlaneNode]:
    nodes, seen = [], set()
    for entry in params["nodes"]:
        name = str(entry.get("name") or "").strip()
        if not name or name in seen:
            raise ValueError(f"every node needs a unique name (got {entry.get('name')!r})")
        seen.add(name)
        disk_uuid = entry.get("disk_uuid") or None
        nodes.append(
            ControlPlaneNode(
                name=name,
                address=check_host(entry.get("address"), f"address of node {name}"),
                disk_uuid=canonical_disk_uuid(disk_uuid) if disk_uuid else None,
            )
        )
    if not nodes:
        raise ValueError("nodes is empty: no control-plane node to recover (is the inventory complete?)")
    return nodes


class Wiring:
    """The real probe, push and health calls, each bounded by the timeout the loop passes.

    A probe that finds a node waiting keeps its attested connection; when the round pushes to that node, the key
    goes over that same connection (one handshake, and the key reaches the very server that was attested). The
    loop releases the connections of the nodes it does not push to.
    """

    def __init__(self, params, validator, secret):
        self.port = recovery_port(params["port"], params["protocol"])
        self.protocol = params["protocol"]
        self.validator = validator
        self.secret = secret
        self.auth = KubeAuth.from_params(params)
        self._held: dict[str, object] = {}
        self._lock = threading.Lock()
        self.caveats: list[dict] | None = None  # of the Kubernetes API connection, known once the credentials loaded

    def _hold(self, name: str, conn) -> None:
        with self._lock:
            previous, self._held[name] = self._held.get(name), conn
        if previous is not None:
            previous.close()

    def _take(self, name: str):
        with self._lock:
            return self._held.pop(name, None)

    def release(self, keep) -> None:
        """Close the held connections of every node not in ``keep``."""
        names = {node.name for node in keep}
        with self._lock:
            dropped = [self._held.pop(name) for name in list(self._held) if name not in names]
        for conn in dropped:
            conn.close()

    def endpoint(self, node: ControlPlaneNode, timeout: float) -> Endpoint:
        return Endpoint(node.address, self.port, self.validator, timeout)

    def probe(self, node: ControlPlaneNode, timeout: float) -> ProbeResult:
        result, conn = self.endpoint(node, timeout).attest()
        if conn is not None:
            self._hold(node.name, conn)
        return result

    def push(self, node: ControlPlaneNode, timeout: float) -> PushOutcome:
        endpoint = self.endpoint(node, timeout)
        started = time.monotonic()
        held = self._take(node.name)
        try:
            try:
                used, announced = push_detecting(endpoint, self.protocol, self.secret, node.disk_uuid, held)
            except (OSError, GrpcError) as exc:
                if held is None or (isinstance(exc, GrpcError) and exc.code_name != "Unavailable"):
                    raise
                # The probe's connection did not survive until the push (the server hung up): attest anew.
                used, announced = push_detecting(endpoint, self.protocol, self.secret, node.disk_uuid)
        except ConnectionRefused:
            return PushOutcome(False, stopped_waiting=True)
        except Exception as exc:  # noqa: BLE001 - a malformed answer must not kill the other pushes
            return PushOutcome(False, error=describe_push_failure(exc, endpoint))
        return PushOutcome(True, seconds=round(time.monotonic() - started, 3), protocol=used, disk_uuid=announced)

    def health(self, timeout: float) -> dict:
        """The API's view. The first call loads and checks the credentials (ClusterUnreachable when they cannot be
        used): the loop asks it beside its first probes; only with stop_at=all may keys go out before it answered."""
        if self.caveats is None:  # the loop asks one health answer at a time
            self.caveats = check_api_credentials(self.auth)
        return cluster_health(self.auth, timeout)


def run(module, validator, secret) -> None:
    params = module.params
    try:
        nodes = _nodes(params)
        wiring = Wiring(params, validator, secret)
    except (ValueError, AddressError) as exc:
        module.fail_json(msg=str(exc))
    deadline = Deadline(params["wait_timeout"])
    progress = ProgressLog(deadline, sink=file_sink(params.get("progress_file")))
    loop = QuorumLoop(
        nodes,
        probe=wiring.probe,
        push=wiring.push,
        health=wiring.health,
        stop_at=params["stop_at"],
        deadline=deadline,
        call_timeout=params["timeout"],
        poll_interval=params["poll_interval"],
        quorum_grace=params["quorum_grace"],
        progress=progress,
        check_mode=module.check_mode,
        release=wiring.release,
        reach_timeout=params["reach_timeout"],
        after_push=after_keys,
    )
    try:
        quorum = loop.run()
    except ClusterUnreachable as exc:  # the credentials, checked in the first round
        pushed = loop.result()
        before = (
            f"; {pushed['keys_pushed']} key(s) had already gone to attested waiting nodes (stop_at all does not wait "
            "for the API's answer)"
            if pushed["keys_pushed"]
            else ""
        )
        module.fail_json(
            msg=f"{exc}{before}", **dict(pushed, progress=progress.lines, changed=bool(pushed["keys_pushed"]))
        )
    finally:
        wiring.release([])
    assurance = list(getattr(validator, "caveats", [])) + warned(module, wiring.caveats or [])
    result = dict(loop.result(), progress=progress.lines, elapsed=round(deadline.elapsed(), 2), assurance=assurance)
    result["changed"] = result["keys_pushed"] > 0
    if loop.unreachable:
        module.exit_json(
            msg=f"no control-plane node answered on its own address within {params['reach_timeout']:g} s "
            "and etcd has no quorum: nothing was pushed; reach the nodes through the load balancer",
            **result,
        )
    if module.check_mode:
        result["would_push"] = loop.would_push
        result["changed"] = bool(loop.would_push)
        module.exit_json(
            msg=f"would push to: {', '.join(loop.would_push) or 'none'} (attested; check mode sent nothing)", **result
        )
    if not quorum:
        module.fail_json(msg=loop.failure_message(), **result)
    module.exit_json(
        msg=f"etcd quorum is back after {result['rounds']} round(s); {result['keys_pushed']} key(s) pushed", **result
    )


# The priority of what a run does once its keys are out: the most a process may lower itself without privileges is 19.
AFTER_KEYS_NICENESS = 10


def after_keys() -> None:
    """Once a round's keys are out, what is left of the run can wait: the client's import, the API's answers, the
    later rounds. Lower the priority of this thread and of the threads it starts from now on (Linux gives each thread
    its own niceness), so that on a busy controller it gives way to work that still has keys to send, such as the
    other clusters' leaders in a fleet run. Then start the client's import. Called after every round that pushed;
    the priority is lowered once, and where the platform refuses, the run goes on unchanged."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < AFTER_KEYS_NICENESS:
            os.setpriority(os.PRIO_PROCESS, 0, AFTER_KEYS_NICENESS)
    except (AttributeError, OSError):
        pass
    _client.warm_up()


def asks_api_before_keys(stop_at: str | None, check_mode: bool) -> bool:
    """Whether the push loop's first round asks the Kubernetes API before its keys, so that the client is worth
    importing from the start; with stop_at=all (not in check mode) the keys go first and the import waits for them."""
    return stop_at != ALL or bool(check_mode)


def execute(module) -> None:
    """The module, from its validated arguments to exit_json or fail_json."""
    require_libraries(module)
    if not _client.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(_client.KUBERNETES_IMPORT_ERROR))
    if asks_api_before_keys(module.params["stop_at"], module.check_mode):
        _client.warm_up()
    run(module, validator(module), master_secret(module))
