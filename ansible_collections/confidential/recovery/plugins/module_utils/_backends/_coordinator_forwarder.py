# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the coordinator_forwarder module: the guide's port-forwarder pod, only where it is needed."""

from __future__ import annotations

from .._kube._auth import KubeAuth
from .._kube._cluster_health import ClusterUnreachable, api_client
from .._kube._coordinator_pods import coordinator_pods, handled_as_a_set, looks_for_several
from .._kube._coordinator_service import NoLoadBalancer, ServiceLookupError, find_coordinator
from .._kube._forwarder_pod import ForwarderError, ForwarderPods, is_ours, manifest
from .._kube._port_forward import PortForwardError, find_forwarder, list_pods
from .._net._deadline import Deadline, ProgressLog


def _absent(module, pods: ForwarderPods, name: str) -> None:
    if module.check_mode:
        would = is_ours(pods.read(name))
        module.exit_json(
            changed=would, msg=f"would delete pod {pods.namespace}/{name}" if would else "nothing to delete"
        )
    deleted = pods.delete_ours(name)
    module.exit_json(
        changed=deleted,
        msg=f"deleted pod {pods.namespace}/{name}"
        if deleted
        else f"no pod {pods.namespace}/{name} of this collection to delete (a pod it did not create is left alone)",
    )


def _several_coordinators(client, params, auth: KubeAuth) -> list[str] | None:
    """The Coordinator pods' names when coordinator_recover reaches each one through its own port-forward, else None:
    its rule (_kube/_coordinator_pods), so that a Coordinator it reaches through the forwarder still gets one."""
    if not looks_for_several(params["replicas"], auth.explicit):
        return None
    try:
        pods = coordinator_pods(
            list_pods(client, params["namespace"], params["coordinator_selector"], params["timeout"])
        )
    except PortForwardError:  # as for coordinator_recover: auto takes one Coordinator, all needs no forwarder anyway
        return [] if params["replicas"] == "all" else None
    return [pod.name for pod in pods] if handled_as_a_set(params["replicas"], pods) else None


def _present(module, client, pods: ForwarderPods, auth: KubeAuth) -> None:
    params = module.params
    namespace, service = params["namespace"], params["service"]
    try:
        address = find_coordinator(auth, namespace, service, params["timeout"])
        module.exit_json(
            changed=False,
            needed=False,
            created=False,
            msg=f"Service {namespace}/{service} has the load-balancer address {address}: no forwarder is needed",
        )
    except NoLoadBalancer:
        pass
    several = _several_coordinators(client, params, auth)
    if several is not None:
        module.exit_json(
            changed=False,
            needed=False,
            created=False,
            coordinators=several,
            msg=f"{len(several)} Coordinator pod(s) ({params['coordinator_selector']}): each is reached through a "
            "port-forward to its own pod, so no forwarder is needed",
        )
    existing = find_forwarder(client, namespace, None, None, params["timeout"])
    if existing:
        module.exit_json(
            changed=False, needed=True, created=False, pod=existing, msg=f"pod {namespace}/{existing} is Ready"
        )
    body = manifest(params["name"], namespace, params["image"], service, params["port"])
    if module.check_mode:
        module.exit_json(
            changed=True,
            needed=True,
            created=False,
            pod=params["name"],
            manifest=body,
            msg=f"would create pod {namespace}/{params['name']} (socat to {service}:{params['port']}) and wait for it",
        )
    pods.create(body)
    progress = ProgressLog(Deadline(params["wait_timeout"]))
    try:
        pods.wait_ready(params["name"], params["wait_timeout"], progress)
    except ForwarderError as exc:
        removed = pods.delete_ours(params["name"])
        module.fail_json(msg=f"{exc}{'; removed it again' if removed else ''}", progress=progress.lines)
    module.exit_json(
        changed=True,
        needed=True,
        created=True,
        pod=params["name"],
        progress=progress.lines,
        msg=f"created pod {namespace}/{params['name']}; it is Ready",
    )


def run(module) -> None:
    params = module.params
    auth = KubeAuth.from_params(params)
    try:
        client = api_client(auth, params["timeout"])
        pods = ForwarderPods(client, params["namespace"], params["timeout"])
        if params["state"] == "absent":
            _absent(module, pods, params["name"])
        _present(module, client, pods, auth)
    except (ClusterUnreachable, ServiceLookupError, PortForwardError, ForwarderError) as exc:
        module.fail_json(msg=str(exc))
