# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Where the Contrast Coordinator's user API is, found as upstream's recovery guide finds it: the load-balancer
address of the ``coordinator`` Service (``kubectl get svc coordinator -o
jsonpath='{.status.loadBalancer.ingress[0].ip}'``), on the Service's port 1313 (docs/contrast-protocol.md).

The Service comes from the Kubernetes API and is read as untrusted JSON: anything unexpected is a
ServiceLookupError. Attestation, not this lookup, decides whether the peer gets the seed."""

from __future__ import annotations

import json

from .._net._addresses import AddressError, check_host, join_host_port
from ._auth import KubeAuth
from ._client import api_exception, library
from ._cluster_health import ClusterUnreachable, api_client, describe_api_error

USER_API_PORT = 1313
USER_API_PORT_NAME = "userapi"
THE_WAYS = (
    "reach the Coordinator one of three ways: give its address (contrast_recover_coordinator, host:port), run the "
    "port-forwarder-coordinator pod of Contrast's recovery guide in its namespace to be port-forwarded to, or let "
    "the role create that pod (contrast_recover_create_forwarder: true)"
)


class ServiceLookupError(Exception):
    """The Service is missing, unreadable, or gives no address to reach the Coordinator at."""


class NoLoadBalancer(ServiceLookupError):
    """The Service exists but has no load-balancer address: a private cluster, reached through a port-forward."""


def load_balancer_address(service, where: str) -> str:
    """``host:port`` of the Service's first load-balancer ingress (its IP, else its host name) and its user-API port."""
    if not isinstance(service, dict):
        raise ServiceLookupError(f"{where}: the API answered something that is not a Service object")
    spec = service.get("spec") if isinstance(service.get("spec"), dict) else {}
    status = service.get("status") if isinstance(service.get("status"), dict) else {}
    balancer = status.get("loadBalancer") if isinstance(status.get("loadBalancer"), dict) else {}
    ingress = balancer.get("ingress") if isinstance(balancer.get("ingress"), list) else []
    hosts = [
        entry.get("ip") or entry.get("hostname")
        for entry in ingress
        if isinstance(entry, dict) and isinstance(entry.get("ip") or entry.get("hostname"), str)
    ]
    if not hosts:
        kind = spec.get("type") if isinstance(spec.get("type"), str) else "unknown"
        raise NoLoadBalancer(f"{where} (type {kind[:40]}) has no load-balancer address yet; {THE_WAYS}")
    try:
        host = check_host(hosts[0], f"{where}: the load-balancer address")
    except AddressError as exc:
        raise ServiceLookupError(str(exc)) from exc
    return join_host_port(host, _user_api_port(spec.get("ports"), where))


def _user_api_port(ports, where: str) -> int:
    entries = [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []
    numbers = [p.get("port") for p in entries if isinstance(p.get("port"), int) and not isinstance(p.get("port"), bool)]
    if USER_API_PORT in numbers:
        return USER_API_PORT
    named = [p.get("port") for p in entries if p.get("name") == USER_API_PORT_NAME and p.get("port") in numbers]
    if named and 1 <= named[0] <= 65535:
        return named[0]
    raise ServiceLookupError(
        f"{where} has no port {USER_API_PORT} and none named {USER_API_PORT_NAME!r} (ports: "
        f"{', '.join(str(n) for n in numbers[:8]) or 'none'}); {THE_WAYS}"
    )


def find_coordinator(auth: KubeAuth, namespace: str, name: str, timeout: float) -> str:
    """Ask the API for the Service and return the Coordinator's ``host:port``."""
    where = f"Service {namespace}/{name}"
    try:
        core = library().client.CoreV1Api(api_client(auth, timeout))
        response = core.read_namespaced_service(name, namespace, _preload_content=False, _request_timeout=timeout)
        service = json.loads(response.data)
    except ClusterUnreachable as exc:
        raise ServiceLookupError(f"cannot look up {where}: {exc}") from exc
    except api_exception() as exc:
        if exc.status == 404:
            raise ServiceLookupError(f"{where} does not exist in {auth.describe()}; {THE_WAYS}") from exc
        raise ServiceLookupError(f"cannot read {where}: {describe_api_error(exc)}") from exc
    except ValueError as exc:
        raise ServiceLookupError(f"{where}: the API's answer is not JSON") from exc
    except Exception as exc:  # noqa: BLE001 - urllib3's many connection errors all mean "could not ask"
        raise ServiceLookupError(f"cannot look up {where} through {auth.describe()}: {exc.__class__.__name__}") from exc
    return load_balancer_address(service, where)
