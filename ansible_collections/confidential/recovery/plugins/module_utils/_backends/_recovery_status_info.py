# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the recovery_status_info module: one look, or a wait that ends by its deadline."""

from __future__ import annotations

import time

from ansible.module_utils.basic import missing_required_lib

from .._constellation import _module as _constellation_module
from .._constellation._push import Endpoint, PushError, probe
from .._constellation._rpc import recovery_port
from .._evidence import _choices
from .._kube import _client
from .._kube._auth import K8S_AUTH, KubeAuth
from .._kube._cluster_health import (
    CONDITIONS,
    ClusterUnreachable,
    answer_timeout,
    check_api_credentials,
    cluster_health,
    warned,
)
from .._module._attestation_options import ATTESTATION, CONSTELLATION_ATTESTATION
from .._module._options import PROGRESS, module_arguments
from .._net._addresses import AddressError, check_host
from .._net._deadline import Deadline, ProgressLog, file_sink

ARGUMENTS = module_arguments(
    ATTESTATION,
    CONSTELLATION_ATTESTATION,
    K8S_AUTH,
    PROGRESS,
    check=dict(type="str", choices=["node", "cluster"], required=True),
    endpoint=dict(type="str"),
    port=dict(type="int"),
    protocol=dict(type="str", choices=["auto", "unary", "stream", "keyservice"], default="auto"),
    wait_for=dict(type="str", choices=["quorum", "all_ready"]),
    wait_timeout=dict(type="float", default=300),
    poll_interval=dict(type="float", default=0.5),
    # Only check=node attests a peer (required_if below).
    attestation=dict(type="str", choices=_choices.ATTESTATION_CHOICES),
)
ARGUMENTS.setdefault("required_if", []).append(("check", "node", ("endpoint", "attestation")))


def check_node(module, validator) -> None:
    params = module.params
    try:
        port = recovery_port(params["port"], params["protocol"])
        endpoint = Endpoint(check_host(params["endpoint"], "endpoint"), port, validator, params["timeout"])
        waiting, reason = probe(endpoint)
    except (AddressError, PushError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, waiting=waiting, endpoint=endpoint.address, msg=reason)


def _describe(health: dict) -> str:
    if not health["quorum"]:
        return f"no etcd quorum ({health['etcd_readyz']})"
    state = f"etcd quorum; control plane {health['control_plane_ready']}/{health['control_plane_total']} Ready"
    if health["not_ready_nodes"]:
        state += f"; not Ready: {', '.join(sorted(health['not_ready_nodes']))}"
    return state


def wait_for(
    auth: KubeAuth, condition: str, wait_timeout: float, call_timeout: float, poll_interval: float, progress_sink=None
) -> tuple[bool, dict, ProgressLog, Deadline]:
    """Poll until ``condition`` holds or ``wait_timeout`` passes; every call is cut to the time left."""
    deadline = Deadline(wait_timeout)
    progress = ProgressLog(deadline, sink=progress_sink)
    met = CONDITIONS[condition]
    while True:
        health = cluster_health(auth, answer_timeout(deadline, call_timeout))
        progress(_describe(health))
        if met(health):
            return True, health, progress, deadline
        if deadline.expired():
            return False, health, progress, deadline
        deadline.sleep(poll_interval)


def check_cluster(module) -> None:
    params = module.params
    auth = KubeAuth.from_params(params)
    try:
        assurance = warned(module, check_api_credentials(auth))
    except ClusterUnreachable as exc:
        module.fail_json(msg=str(exc))
    if not params["wait_for"]:
        health = cluster_health(auth, params["timeout"])
        module.exit_json(changed=False, msg=_describe(health), assurance=assurance, **health)
    met, health, progress, deadline = wait_for(
        auth,
        params["wait_for"],
        params["wait_timeout"],
        params["timeout"],
        params["poll_interval"],
        file_sink(params.get("progress_file")),
    )
    result = dict(
        health, changed=False, waited=round(deadline.elapsed(), 2), progress=progress.lines, assurance=assurance
    )
    if met:
        result["reached_at"] = round(time.time(), 3)
    if not met:
        module.fail_json(
            msg=f"gave up waiting for {params['wait_for']} after {params['wait_timeout']:g} s: {_describe(health)}",
            **result,
        )
    module.exit_json(msg=f"{params['wait_for']} reached after {result['waited']} s: {_describe(health)}", **result)


def execute(module) -> None:
    """The module, from its validated arguments to exit_json or fail_json."""
    if module.params["check"] == "node":
        _constellation_module.require_libraries(module, ("cryptography", "h2"))
        check_node(module, _constellation_module.validator(module))
    if not _client.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(_client.KUBERNETES_IMPORT_ERROR))
    check_cluster(module)
