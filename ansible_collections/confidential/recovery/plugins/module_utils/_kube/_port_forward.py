# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A stream to a pod's port through the Kubernetes API: the ``pods/portforward`` subresource, with the official
client's ``kubernetes.stream.portforward`` (a WebSocket of the ``v4.channel.k8s.io`` protocol).

Contrast's recovery guide reaches a Coordinator that no load balancer publishes through a
``port-forwarder-coordinator`` pod, which relays its port 1313 to the ``coordinator`` Service: the Kata shim cannot
port-forward into a confidential pod (docs/contrast-protocol.md). The tunnel is only a path. TLS and attestation
run through it end to end, so it must carry the Coordinator's own evidence, whoever relays it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ._client import api_exception, library
from ._cluster_health import describe_api_error
from ._pod_status import has_ready_condition, mapping, metadata_of, status_of

FORWARDER_NAME = "port-forwarder-coordinator"
FORWARDER_SELECTOR = f"app.kubernetes.io/name={FORWARDER_NAME}"


class PortForwardError(Exception):
    """No pod to forward to, or the API refused the port-forward."""


@dataclass(frozen=True)
class Tunnel:
    namespace: str
    pod: str
    port: int

    def describe(self) -> str:
        return f"pod {self.namespace}/{self.pod} port {self.port} (port-forward through the Kubernetes API)"


def _ready(pod: dict) -> bool:
    status = status_of(pod)
    return status.get("phase") == "Running" and has_ready_condition(status)


def _name(pod) -> str:
    name = metadata_of(pod).get("name")
    return name if isinstance(name, str) else ""


def _labels(pod) -> dict:
    return mapping(metadata_of(pod).get("labels"))


def ready_forwarder(pods: list, pod: str | None = None) -> str | None:
    """The pod to forward to among ``pods`` (the API's items, as dicts): ``pod`` by name when given, else the first
    Ready pod by name. None when no such pod is Ready."""
    candidates = sorted(
        (_name(p) for p in pods if isinstance(p, dict) and _ready(p) and _name(p) and (pod is None or _name(p) == pod)),
    )
    return candidates[0] if candidates else None


def list_pods(api_client, namespace: str, selector: str | None, timeout: float) -> list:
    core = library().client.CoreV1Api(api_client)
    try:
        answer = core.list_namespaced_pod(
            namespace, label_selector=selector or "", _preload_content=False, _request_timeout=timeout
        )
        items = json.loads(answer.data).get("items")
    except api_exception() as exc:
        raise PortForwardError(f"cannot list the pods of namespace {namespace}: {describe_api_error(exc)}") from exc
    except (ValueError, AttributeError) as exc:
        raise PortForwardError(f"the API's pod list of namespace {namespace} is not a list") from exc
    except Exception as exc:  # noqa: BLE001 - urllib3's many connection errors all mean "could not ask"
        raise PortForwardError(f"cannot list the pods of namespace {namespace}: {exc.__class__.__name__}") from exc
    return items if isinstance(items, list) else []


def find_forwarder(api_client, namespace: str, pod: str | None, selector: str | None, timeout: float) -> str | None:
    """A Ready forwarder pod: ``pod`` by name, or the first of ``selector`` (by default the upstream guide's pod by
    its name, then any pod labelled as one)."""
    if pod or selector:
        return ready_forwarder(list_pods(api_client, namespace, selector, timeout), pod)
    pods = list_pods(api_client, namespace, None, timeout)
    label_key, label_value = FORWARDER_SELECTOR.split("=", 1)
    return ready_forwarder(pods, FORWARDER_NAME) or ready_forwarder(
        [p for p in pods if _labels(p).get(label_key) == label_value]
    )


def dialer(api_client, tunnel: Tunnel, timeout: float):
    """``dial()``: a fresh stream to the tunnel's pod and port, one WebSocket each, as a connected socket."""
    import websocket
    from kubernetes.stream import portforward

    core = library().client.CoreV1Api(api_client)

    def dial():
        previous = websocket.getdefaulttimeout()
        websocket.setdefaulttimeout(timeout)  # the WebSocket's connect and upgrade, which the client does not bound
        try:
            forward = portforward(
                core.connect_get_namespaced_pod_portforward, tunnel.pod, tunnel.namespace, ports=str(tunnel.port)
            )
        except api_exception() as exc:
            raise ConnectionError(f"the port-forward to {tunnel.describe()} failed: {exc.reason}") from exc
        finally:
            websocket.setdefaulttimeout(previous)
        return forward.socket(tunnel.port)._socket

    return dial
