# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The port-forwarder pod of Contrast's recovery guide, for a cluster without a public load balancer: socat relays
the pod's port 1313 to the ``coordinator`` Service, and the module port-forwards to the pod through the Kubernetes
API. Created only on request, labelled as this collection's, removed afterwards unless kept; a pod this collection
did not create is never deleted."""

from __future__ import annotations

import json

from .._net._deadline import Deadline
from ._client import api_exception, library
from ._cluster_health import describe_api_error
from ._port_forward import FORWARDER_NAME, _ready

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "confidential.recovery"


class ForwarderError(Exception):
    """The pod could not be created, did not become Ready in time, or could not be removed."""


def manifest(name: str, namespace: str, image: str, service: str, port: int) -> dict:
    """The guide's pod: socat from TCP port ``port`` to ``service``:``port``, 50 MiB of memory."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": FORWARDER_NAME, MANAGED_BY: MANAGER},
        },
        "spec": {
            "containers": [
                {
                    "name": "port-forwarder",
                    "image": image,
                    "args": ["-d", f"TCP-LISTEN:{port},fork", f"TCP:{service}:{port}"],
                    "ports": [{"containerPort": port}],
                    "resources": {"requests": {"memory": "50Mi"}, "limits": {"memory": "50Mi"}},
                }
            ]
        },
    }


def _why_not_ready(pod: dict) -> str:
    status = pod.get("status") if isinstance(pod.get("status"), dict) else {}
    conditions = status.get("conditions") if isinstance(status.get("conditions"), list) else []
    reasons = [
        f"{c.get('type')} {c.get('reason') or c.get('status')}: {str(c.get('message') or '')[:200]}"
        for c in conditions
        if isinstance(c, dict) and c.get("status") != "True"
    ]
    return f"phase {str(status.get('phase') or 'unknown')[:40]}" + (f"; {'; '.join(reasons)}" if reasons else "")


def is_ours(pod: dict | None) -> bool:
    """True when ``pod`` carries this collection's managed-by label: only such a pod is ever deleted."""
    meta = pod.get("metadata") if isinstance(pod, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return isinstance(labels, dict) and labels.get(MANAGED_BY) == MANAGER


class ForwarderPods:
    def __init__(self, api_client, namespace: str, timeout: float):
        self.core = library().client.CoreV1Api(api_client)
        self.namespace, self.timeout = namespace, timeout

    def read(self, name: str) -> dict | None:
        try:
            answer = self.core.read_namespaced_pod(
                name, self.namespace, _preload_content=False, _request_timeout=self.timeout
            )
            pod = json.loads(answer.data)
        except api_exception() as exc:
            if exc.status == 404:
                return None
            raise ForwarderError(f"cannot read pod {self.namespace}/{name}: {describe_api_error(exc)}") from exc
        except ValueError as exc:
            raise ForwarderError(f"the API's pod {self.namespace}/{name} is not JSON") from exc
        except Exception as exc:  # noqa: BLE001 - urllib3's connection errors: the API could not be asked
            raise ForwarderError(f"cannot read pod {self.namespace}/{name}: {exc.__class__.__name__}") from exc
        return pod if isinstance(pod, dict) else None

    def create(self, body: dict) -> None:
        try:
            self.core.create_namespaced_pod(self.namespace, body, _request_timeout=self.timeout)
        except api_exception() as exc:
            raise ForwarderError(
                f"cannot create pod {self.namespace}/{body['metadata']['name']}: {describe_api_error(exc)}"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - urllib3's connection errors: the API could not be asked
            raise ForwarderError(f"cannot create pod {self.namespace}: {exc.__class__.__name__}") from exc

    def wait_ready(self, name: str, seconds: float, progress, poll: float = 1.0) -> None:
        deadline = Deadline(seconds)
        while True:
            pod = self.read(name)
            if pod is not None and _ready(pod):
                return
            state = _why_not_ready(pod) if pod else "gone"
            progress(f"pod {self.namespace}/{name}: {state}", key=state)
            if deadline.expired():
                raise ForwarderError(f"pod {self.namespace}/{name} did not become Ready within {seconds:g} s ({state})")
            deadline.sleep(poll)

    def delete_ours(self, name: str) -> bool:
        """Delete the pod if this collection created it (its label says so); True when one was deleted."""
        if not is_ours(self.read(name)):
            return False
        try:
            self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0, _request_timeout=self.timeout)
        except api_exception() as exc:
            if exc.status == 404:
                return False
            raise ForwarderError(f"cannot delete pod {self.namespace}/{name}: {describe_api_error(exc)}") from exc
        except Exception as exc:  # noqa: BLE001 - urllib3's connection errors: the API could not be asked
            raise ForwarderError(f"cannot delete pod {self.namespace}/{name}: {exc.__class__.__name__}") from exc
        return True
