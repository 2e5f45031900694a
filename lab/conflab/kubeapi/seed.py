# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What the lab's cluster runs: a Contrast demo deployment, its Coordinator, and a plain workload."""

from __future__ import annotations

import secrets

from .store import Store

RUNTIME_CLASS = f"contrast-cc-metal-qemu-snp-{secrets.token_hex(4)}"
INITIALIZER = {"name": "contrast-initializer", "image": "ghcr.io/edgelesssys/contrast/initializer:v1.6.0"}
MESH_SIDECAR = {"name": "contrast-service-mesh", "image": "ghcr.io/edgelesssys/contrast/service-mesh-proxy:v1.6.0"}


def _template(
    app: str, image: str, contrast: bool, labels: dict | None = None, annotations: dict | None = None
) -> dict:
    spec = {"containers": [{"name": app, "image": image}]}
    meta = {"labels": {"app.kubernetes.io/name": app, **(labels or {})}, "annotations": dict(annotations or {})}
    if contrast:
        spec["runtimeClassName"] = RUNTIME_CLASS
        spec["initContainers"] = [dict(INITIALIZER), dict(MESH_SIDECAR, restartPolicy="Always")]
        meta["annotations"]["io.katacontainers.config.hypervisor.cc_init_data"] = (
            "H4sIAAAAAAAA/0rOzy0oSi0uTs1LTgQAAAD//w=="
        )
    return {"metadata": meta, "spec": spec}


def _workload(
    kind: str, namespace: str, name: str, template: dict, replicas: int | None = 1, labels: dict | None = None
) -> dict:
    spec = {
        "selector": {
            "matchLabels": {"app.kubernetes.io/name": template["metadata"]["labels"]["app.kubernetes.io/name"]}
        },
        "template": template,
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "kind": kind,
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": namespace, "generation": 1, "labels": dict(labels or {})},
        "spec": spec,
    }


COORDINATOR_NAMESPACE = "contrast-demo"


def coordinator_service(config: dict) -> dict:
    """The ``coordinator`` LoadBalancer Service of Contrast's released resources: user API 1313, mesh API 7777. Its
    load-balancer address is the lab Coordinator's own address, as a cloud load balancer would forward it."""
    coordinator = config["coordinator"]
    ports = [
        {"name": "userapi", "port": coordinator["port"], "protocol": "TCP", "targetPort": 1313},
        {"name": "meshapi", "port": 7777, "protocol": "TCP", "targetPort": 7777},
    ]
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "coordinator", "namespace": COORDINATOR_NAMESPACE},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app.kubernetes.io/name": "coordinator"},
            "ports": ports,
            "publishNotReadyAddresses": True,
        },
        "status": {
            "loadBalancer": {"ingress": [{"ip": coordinator["ip"], "ipMode": "VIP"}]}
            if coordinator.get("load_balancer", True)
            else {}
        },
    }


def seed(store: Store, forwarder: bool = True, coordinators: int = 1) -> None:
    """``forwarder``: run the port-forwarder-coordinator Deployment (a lab whose Coordinator Service has no load
    balancer starts without one, so that a recovery must create it). ``coordinators``: the StatefulSet's replicas."""
    for namespace in ("default", "kube-system", "contrast-demo"):
        store.put(
            {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": namespace}, "status": {"phase": "Active"}}
        )
    demo = "contrast-demo"
    store.put(
        _workload("Deployment", demo, "web", _template("web", "ghcr.io/edgelesssys/contrast/emojivoto-web:v1", True), 2)
    )
    store.put(
        _workload(
            "Deployment", demo, "emoji", _template("emoji", "ghcr.io/edgelesssys/contrast/emojivoto-emoji:v1", True), 1
        )
    )
    store.put(_workload("StatefulSet", demo, "db", _template("db", "docker.io/library/postgres:16", True), 1))
    store.put(
        _workload(
            "StatefulSet",
            demo,
            "coordinator",
            _template(
                "coordinator",
                "ghcr.io/edgelesssys/contrast/coordinator:v1.6.0",
                True,
                annotations={"contrast.edgeless.systems/pod-role": "coordinator"},
            ),
            coordinators,
        )
    )
    if forwarder:
        store.put(
            _workload(
                "Deployment",
                demo,
                "port-forwarder-coordinator",
                _template("port-forwarder-coordinator", "ghcr.io/edgelesssys/contrast/port-forwarder:v1", True),
                1,
            )
        )
    store.put(
        _workload(
            "Deployment", "default", "plain-nginx", _template("plain-nginx", "docker.io/library/nginx:1.27", False), 1
        )
    )
    store.put(
        _workload(
            "DaemonSet",
            "kube-system",
            "contrast-node-installer",
            _template(
                "contrast-node-installer",
                "ghcr.io/edgelesssys/contrast/node-installer:v1.6.0",
                False,
                labels={"contrast.edgeless.systems/pod-role": "contrast-node-installer"},
            ),
            None,
        )
    )
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": "debug-shell", "namespace": demo, "labels": {"app.kubernetes.io/name": "debug-shell"}},
        "spec": _template("debug-shell", "docker.io/library/busybox:1.36", True)["spec"],
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    store.put(pod)
