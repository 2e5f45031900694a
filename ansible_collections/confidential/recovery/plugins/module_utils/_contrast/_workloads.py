# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Restart the Contrast mesh workloads after the mesh CA changed (docs/contrast-protocol.md, Workloads after a recovery).

A pod is a mesh workload when its runtime class starts with ``contrast-cc`` or it has the
``contrast-initializer`` init container. The Coordinator, ``port-forwarder-*`` pods and the node
installer are skipped. Owners are restarted the way ``kubectl rollout restart`` does it (a
``restartedAt`` pod-template annotation); bare pods are deleted.
"""

from __future__ import annotations

import datetime
import time

from .._kube._client import library

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
INITIALIZER = "contrast-initializer"


def is_mesh_workload(pod) -> bool:
    spec = pod.spec
    if (spec.runtime_class_name or "").startswith("contrast-cc"):
        return True
    return any(c.name == INITIALIZER for c in spec.init_containers or [])


def skip_reason(pod) -> str | None:
    labels = pod.metadata.labels or {}
    if labels.get("app.kubernetes.io/name") == "coordinator":
        return "the Coordinator"
    if pod.metadata.name.startswith("port-forwarder-"):
        return "a port-forwarder"
    if labels.get("contrast.edgeless.systems/pod-role") == "contrast-node-installer":
        return "the node installer"
    return None


def _controller(refs):
    for ref in refs or []:
        if ref.controller:
            return ref
    return None


class WorkloadRestart:
    def __init__(self, api_client, namespaces: list[str]):
        kubernetes = library()
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.apps = kubernetes.client.AppsV1Api(api_client)
        self.namespaces = namespaces

    def _pods(self):
        if not self.namespaces:
            return self.core.list_pod_for_all_namespaces().items
        return [p for ns in self.namespaces for p in self.core.list_namespaced_pod(ns).items]

    def plan(self) -> tuple[list[dict], list[dict], list[dict]]:
        """Return (owners to restart, bare pods to delete, skipped), each as {kind, namespace, name}."""
        owners, bare, skipped = {}, {}, {}
        for pod in self._pods():
            if not is_mesh_workload(pod):
                continue
            namespace = pod.metadata.namespace
            reason = skip_reason(pod)
            ref = _controller(pod.metadata.owner_references)
            if ref is not None and ref.kind == "ReplicaSet":
                replicaset = self.apps.read_namespaced_replica_set(ref.name, namespace)
                ref = _controller(replicaset.metadata.owner_references) or ref
            entry = {
                "kind": ref.kind if ref else "Pod",
                "namespace": namespace,
                "name": ref.name if ref else pod.metadata.name,
            }
            key = (entry["kind"], namespace, entry["name"])
            if reason:
                skipped[key] = dict(entry, reason=reason)
            elif ref is None:
                bare[key] = entry
            else:
                owners[key] = entry
        return list(owners.values()), list(bare.values()), list(skipped.values())

    def restart(self, owner: dict, stamp: str) -> int:
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        patch = {
            "Deployment": self.apps.patch_namespaced_deployment,
            "StatefulSet": self.apps.patch_namespaced_stateful_set,
            "DaemonSet": self.apps.patch_namespaced_daemon_set,
        }.get(owner["kind"])
        if patch is None:
            raise ValueError(f"cannot restart {owner['kind']} {owner['namespace']}/{owner['name']}")
        return patch(owner["name"], owner["namespace"], body).metadata.generation

    def delete_pod(self, pod: dict) -> None:
        self.core.delete_namespaced_pod(pod["name"], pod["namespace"])

    def rolled_out(self, owner: dict, generation: int) -> bool:
        name, namespace = owner["name"], owner["namespace"]
        if owner["kind"] == "Deployment":
            obj = self.apps.read_namespaced_deployment_status(name, namespace)
            want = obj.spec.replicas or 0
            s = obj.status
            return (
                (s.observed_generation or 0) >= generation
                and (s.updated_replicas or 0) == want
                and (s.replicas or 0) == want
                and (s.ready_replicas or 0) == want
            )
        if owner["kind"] == "StatefulSet":
            obj = self.apps.read_namespaced_stateful_set_status(name, namespace)
            want = obj.spec.replicas or 0
            s = obj.status
            return (
                (s.observed_generation or 0) >= generation
                and (s.updated_replicas or 0) == want
                and (s.ready_replicas or 0) == want
                and s.current_revision == s.update_revision
            )
        obj = self.apps.read_namespaced_daemon_set_status(name, namespace)
        s = obj.status
        return (
            (s.observed_generation or 0) >= generation
            and (s.updated_number_scheduled or 0) == s.desired_number_scheduled
            and (s.number_ready or 0) == s.desired_number_scheduled
        )


def restart_workloads(
    api_client, namespaces: list[str], wait: bool, wait_timeout: float, check_mode: bool, progress
) -> dict:
    restarter = WorkloadRestart(api_client, namespaces)
    owners, bare, skipped = restarter.plan()
    # ready: every workload this call restarted is known to have rolled out (true when it restarted none).
    result = {"restarted": owners, "deleted_pods": bare, "left_alone": skipped, "ready": True, "waited_seconds": 0.0}
    if check_mode or (not owners and not bare):
        return result
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    generations = [(owner, restarter.restart(owner, stamp)) for owner in owners]
    for pod in bare:
        restarter.delete_pod(pod)
    if not wait:
        result["ready"] = not owners
        return result
    started = time.monotonic()
    pending = list(generations)
    last_report = 0.0
    while pending and time.monotonic() - started < wait_timeout:
        pending = [(o, g) for o, g in pending if not restarter.rolled_out(o, g)]
        if pending and time.monotonic() - last_report >= 10:
            progress(
                f"waiting for {', '.join(o['namespace'] + '/' + o['name'] for o, _generation in pending)} to roll out"
            )
            last_report = time.monotonic()
        if pending:
            time.sleep(1)
    result["waited_seconds"] = round(time.monotonic() - started, 2)
    result["ready"] = not pending
    result["not_ready"] = [o for o, _generation in pending]
    return result
