# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Is etcd quorum back? Seen as a user sees it: through the Kubernetes API, with the admin kubeconfig.

On a real cluster etcd's client port is not reachable from outside, so quorum shows as
``/readyz/etcd`` answering ``ok`` and readiness as the nodes' ``Ready`` condition.
"""

from __future__ import annotations

import json
import os

from ._auth import KubeAuth
from ._client import library

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

# A question to the API gets this long even at the very end of a wait: kube-apiserver's own etcd check may take its
# 2 s default (--etcd-readycheck-timeout), and a loaded controller needs a moment for TLS and the node list. A shorter
# call would report a timeout of our own making ("unreachable", readiness unknown) instead of what the API says.
ANSWER_FLOOR_SECONDS = 3.0


def answer_timeout(deadline, call_timeout: float) -> float:
    """The timeout for one health question: ``call_timeout`` cut to what the deadline leaves, but not below the floor."""
    return deadline.bounded(call_timeout, floor=min(call_timeout, ANSWER_FLOOR_SECONDS))


class ClusterUnreachable(Exception):
    pass


def describe_api_error(exc) -> str:
    """HTTP status, reason and the Status message, without the response headers."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else (exc.body or "")
    try:
        message = json.loads(body).get("message") or body
    except (ValueError, AttributeError):
        message = body
    return f"HTTP {exc.status} {exc.reason}: {' '.join(str(message).split())[:300]}"


def api_client(auth: KubeAuth, timeout: float):
    """An API client as kubernetes.core builds one: the kubeconfig (or the client's default), then the overrides."""
    if auth.kubeconfig and not os.path.isfile(auth.kubeconfig):
        raise ClusterUnreachable(f"kubeconfig {auth.kubeconfig} does not exist")
    kubernetes = library()
    configuration = kubernetes.client.Configuration()
    if auth.kubeconfig or not auth.host:
        try:
            kubernetes.config.load_kube_config(
                config_file=auth.kubeconfig, context=auth.context, client_configuration=configuration
            )
        except (OSError, kubernetes.config.ConfigException) as exc:
            raise ClusterUnreachable(f"cannot load {auth.describe()}: {_first_line(exc)}") from exc
        except Exception as exc:  # noqa: BLE001 - YAML, type and key errors of a malformed file
            raise ClusterUnreachable(
                f"{auth.describe()} is malformed ({exc.__class__.__name__}: {_first_line(exc)})"
            ) from exc
    if auth.host:
        configuration.host = auth.host
    if auth.api_key:
        configuration.api_key = {"authorization": f"Bearer {auth.api_key}"}
    if auth.ca_cert:
        configuration.ssl_ca_cert = auth.ca_cert
    if auth.client_cert:
        configuration.cert_file = auth.client_cert
    if auth.client_key:
        configuration.key_file = auth.client_key
    if auth.validate_certs is not None:
        configuration.verify_ssl = auth.validate_certs
    configuration.retries = 0
    return kubernetes.client.ApiClient(configuration)


def unverified_api(auth: KubeAuth, configuration) -> dict | None:
    """A caveat when the API's certificate is not checked (validate_certs: false, or insecure-skip-tls-verify)."""
    if configuration.verify_ssl:
        return None
    return {
        "condition": "kube_api_unverified",
        "message": f"{auth.describe()} does not verify the Kubernetes API's certificate (insecure-skip-tls-verify or "
        "validate_certs: false): a spoofed API server could fake the etcd quorum signal that ends the "
        "key pushes, and it receives the bearer token",
    }


def warned(module, caveats: list[dict]) -> list[dict]:
    for each in caveats:
        module.warn(each["message"])
    return caveats


def check_api_credentials(auth: KubeAuth) -> list[dict]:
    """Load the credentials once, before anything is sent: broken ones are a ClusterUnreachable with a clear message.
    Returns the caveats of the connection (an unverified API), for the caller to warn about and report."""
    client = api_client(auth, 1)
    try:
        return [c for c in (unverified_api(auth, client.configuration),) if c]
    finally:
        client.close()


# What "the cluster is back" means, as the Kubernetes API shows it.
CONDITIONS = {
    "quorum": lambda health: health["quorum"],
    "all_ready": lambda health: health["quorum"] and not health["not_ready_nodes"],
}


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def etcd_ready(api, timeout: float) -> tuple[bool, str]:
    """GET /readyz/etcd: the API server's own check that it can reach an etcd with quorum."""
    try:
        response = api.call_api(
            "/readyz/etcd",
            "GET",
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout,
            _return_http_data_only=True,
        )
        body = " ".join(response.data.decode(errors="replace").split())
        return body == "ok", body
    except library().ApiException as exc:
        return False, describe_api_error(exc)
    except Exception as exc:  # noqa: BLE001 - urllib3 raises many kinds; all mean "not reachable now"
        return False, f"Kubernetes API unreachable: {exc.__class__.__name__}: {_first_line(exc)}"


def _is_ready(node) -> bool:
    for condition in (node.status.conditions or []) if node.status else []:
        if condition.type == "Ready":
            return condition.status == "True"
    return False


def cluster_health(auth: KubeAuth, timeout: float) -> dict:
    api = api_client(auth, timeout)
    try:
        quorum, detail = etcd_ready(api, timeout)
        result = {
            "quorum": quorum,
            "etcd_readyz": detail,
            "ready_nodes": [],
            "not_ready_nodes": [],
            "control_plane_ready": 0,
            "control_plane_total": 0,
            "api_reachable": not detail.startswith("Kubernetes API unreachable"),
        }
        if not quorum:
            return result
        try:
            nodes = library().client.CoreV1Api(api).list_node(_request_timeout=timeout).items
        except library().ApiException as exc:
            result["quorum"] = False
            result["etcd_readyz"] = f"listing nodes failed: HTTP {exc.status} {exc.reason}"
            return result
        except Exception as exc:  # noqa: BLE001 - urllib3 timeouts and resets: the API stalled after /readyz
            result.update(
                quorum=False,
                api_reachable=False,
                etcd_readyz=f"Kubernetes API unreachable: {exc.__class__.__name__}: {_first_line(exc)}",
            )
            return result
        for node in nodes:
            ready = _is_ready(node)
            (result["ready_nodes"] if ready else result["not_ready_nodes"]).append(node.metadata.name)
            if CONTROL_PLANE_LABEL in (node.metadata.labels or {}):
                result["control_plane_total"] += 1
                result["control_plane_ready"] += int(ready)
        return result
    finally:
        api.close()
