# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the node_recover module."""

from __future__ import annotations

import time

from .._constellation._push import (
    NOT_WAITING,
    PUSHED,
    WOULD_PUSH,
    Endpoint,
    PushError,
    probe,
    push_through_load_balancer,
    push_to_node,
)
from .._constellation._rpc import recovery_port
from .._kube._auth import KubeAuth
from .._kube._cluster_health import CONDITIONS, ClusterUnreachable, check_api_credentials, cluster_health, warned
from .._net._addresses import AddressError, check_host


def _cluster_done(auth: KubeAuth, condition: str):
    """Through a load balancer we cannot see which node waits; the Kubernetes API tells when to stop."""
    met = CONDITIONS[condition]

    def done(timeout: float) -> str | None:
        return f"{condition} reached (Kubernetes API)" if met(cluster_health(auth, timeout)) else None

    return done


def run(module, validator, secret) -> None:
    params = module.params
    try:
        port = recovery_port(params["port"], params["protocol"])
        host = check_host(params["endpoint"], "endpoint")
    except AddressError as exc:
        module.fail_json(msg=str(exc))
    endpoint = Endpoint(host, port, validator, params["timeout"])
    try:
        if params["mode"] == "load_balancer":
            _through_load_balancer(module, endpoint, secret, list(getattr(validator, "caveats", [])))
        result = push_to_node(endpoint, params["protocol"], secret, params["disk_uuid"], module.check_mode)
    except PushError as exc:
        module.fail_json(msg=str(exc), endpoint=endpoint.address, pushed=exc.pushed)
    except ValueError as exc:
        module.fail_json(msg=str(exc), endpoint=endpoint.address)
    out = dict(
        changed=result.changed,
        status=result.status,
        protocol=result.protocol,
        elapsed=result.elapsed,
        endpoint=endpoint.address,
        assurance=list(getattr(validator, "caveats", [])),
    )
    if result.disk_uuid:
        out["disk_uuid"] = result.disk_uuid
    if result.status == WOULD_PUSH:
        out["would_push"] = {"endpoint": endpoint.address, "protocol": params["protocol"]}
        out["msg"] = f"would push the recovery key to {endpoint.address} (attestation passed; check mode sent nothing)"
    elif result.status == NOT_WAITING:
        out["msg"] = "; ".join(result.messages)
    else:
        out["msg"] = f"pushed the recovery key to {endpoint.address} ({result.protocol})"
    module.exit_json(**out)


def _through_load_balancer(module, endpoint, secret, assurance: list) -> None:
    params = module.params
    if module.check_mode:
        waiting, reason = probe(endpoint)
        module.exit_json(
            changed=waiting,
            status=WOULD_PUSH if waiting else NOT_WAITING,
            pushed=0,
            msg=reason,
            endpoint=endpoint.address,
            assurance=assurance,
            would_push={"endpoint": endpoint.address, "protocol": params["protocol"]} if waiting else None,
        )
    lines = []
    done = None
    auth = KubeAuth.from_params(params)
    if auth.explicit:
        try:
            assurance += warned(module, check_api_credentials(auth))
        except ClusterUnreachable as exc:
            module.fail_json(msg=str(exc))
        done = _cluster_done(auth, "all_ready" if params["max_pushes"] is None else "quorum")
    started_at = round(time.time(), 3)
    outcome = push_through_load_balancer(
        endpoint,
        params["protocol"],
        secret,
        params["interval"],
        params["max_pushes"],
        params["deadline"],
        progress=lines.append,
        done=done,
    )
    module.exit_json(
        changed=outcome.pushed > 0,
        status=PUSHED if outcome.pushed else NOT_WAITING,
        pushed=outcome.pushed,
        protocol=outcome.protocols[0] if outcome.protocols else None,
        disk_uuids=outcome.disk_uuids,
        attempts=outcome.attempts,
        elapsed=outcome.elapsed,
        started_at=started_at,
        endpoint=endpoint.address,
        msg=f"recovered {outcome.pushed} control-plane nodes; {outcome.stop_reason}",
        progress=lines,
        assurance=assurance,
    )
