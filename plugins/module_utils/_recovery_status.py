# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# Apache License 2.0
"""Backend of the recovery_status module."""

from __future__ import annotations

from ._cluster_health import ClusterUnreachable, cluster_health
from ._constellation_push import Endpoint, PushError, probe
from ._constellation_rpc import default_port


def check_node(module, validator) -> None:
    params = module.params
    endpoint = Endpoint(params["endpoint"], params["port"] or default_port(params["protocol"]), validator, params["timeout"])
    try:
        waiting, reason = probe(endpoint)
    except PushError as exc:
        module.fail_json(msg=str(exc), endpoint=endpoint.address)
    module.exit_json(changed=False, waiting=waiting, endpoint=endpoint.address, msg=reason)


def check_cluster(module) -> None:
    params = module.params
    try:
        health = cluster_health(params["kubeconfig"], params["timeout"])
    except ClusterUnreachable as exc:
        module.fail_json(msg=str(exc))
    state = "etcd quorum is back" if health["quorum"] else f"no etcd quorum ({health['etcd_readyz']})"
    module.exit_json(changed=False, msg=state, **health)
