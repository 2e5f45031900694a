# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Rollouts as the real controllers do them, fast: Deployments via ReplicaSets, StatefulSets, DaemonSets.

A pod-template change (such as a restartedAt annotation) bumps the generation; the controller
replaces the pods, which become Ready about a second after creation.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import threading
import time

from .store import Store, now_iso

POD_READY_AFTER = 1.0


def template_hash(template: dict) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def owner_ref(owner: dict) -> dict:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_pod(namespace: str, name: str, template: dict, owner: dict | None, extra_labels: dict | None = None) -> dict:
    meta = copy.deepcopy(template.get("metadata") or {})
    labels = {**(meta.get("labels") or {}), **(extra_labels or {})}
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": meta.get("annotations") or {},
            "ownerReferences": [owner_ref(owner)] if owner else [],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
        "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]},
        "_created": time.monotonic(),
    }
    return pod


def pod_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


class Controllers:
    def __init__(self, store: Store, node_names: list[str], faults=dict, pod_status=lambda pod: None):
        self.store = store
        self.node_names = node_names
        self.faults = faults  # the lab's fault switches, read on every reconcile
        self.pod_status = pod_status  # a pod whose status the lab's own processes give (a Coordinator), else None
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            with self.store.lock:
                self.reconcile()

    def reconcile(self) -> None:
        for deployment in self.store.list("Deployment"):
            self._deployment(deployment)
        for replicaset in self.store.list("ReplicaSet"):
            self._replicaset(replicaset)
        for statefulset in self.store.list("StatefulSet"):
            self._statefulset(statefulset)
        for daemonset in self.store.list("DaemonSet"):
            self._daemonset(daemonset)
        unschedulable = self.faults().get("new_pods") == "unschedulable"
        for pod in self.store.list("Pod"):
            given = self.pod_status(pod)
            if given is not None:
                if pod["status"] != given:
                    pod["status"] = given
                    self.store.put(pod)
                continue
            if unschedulable and pod.get("_created_through_api"):
                pod["status"] = {
                    "phase": "Pending",
                    "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                         "message": "0/4 nodes are available: 4 Insufficient memory."},
                        {"type": "Ready", "status": "False"},
                    ],
                }  # fmt: skip
                continue
            if not pod_ready(pod) and time.monotonic() - pod.get("_created", 0) >= POD_READY_AFTER:
                pod["status"] = {
                    "phase": "Running",
                    "startTime": now_iso(),
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now_iso()}],
                    "containerStatuses": [
                        {
                            "name": c.get("name", "main"),
                            "ready": True,
                            "restartCount": 0,
                            "image": c.get("image", ""),
                            "imageID": "",
                            "started": True,
                        }
                        for c in pod["spec"].get("containers") or []
                    ],
                }
                self.store.put(pod)

    def _replace_pods(self, pods: list[dict]) -> None:
        for pod in pods:
            self.store.delete("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _deployment(self, deployment: dict) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, name = meta["namespace"], meta["name"]
        current = f"{name}-{template_hash(spec['template'])}"
        replicas = spec.get("replicas", 1)
        for rs in self.store.owned_by("ReplicaSet", deployment):
            if rs["metadata"]["name"] != current and rs["spec"]["replicas"] != 0:
                rs["spec"]["replicas"] = 0
                self.store.put(rs)
        rs = self.store.get("ReplicaSet", namespace, current)
        if rs is None:
            rs = {
                "kind": "ReplicaSet",
                "apiVersion": "apps/v1",
                "metadata": {
                    "name": current,
                    "namespace": namespace,
                    "labels": dict(spec["template"]["metadata"].get("labels") or {}),
                    "ownerReferences": [owner_ref(deployment)],
                },
                "spec": {
                    "replicas": replicas,
                    "template": copy.deepcopy(spec["template"]),
                    "selector": spec.get("selector"),
                },
                "status": {"replicas": 0},
            }
            self.store.put(rs)
        elif rs["spec"]["replicas"] != replicas:
            rs["spec"]["replicas"] = replicas
            self.store.put(rs)
        pods = [p for r in self.store.owned_by("ReplicaSet", deployment) for p in self.store.owned_by("Pod", r)]
        updated = [p for p in self.store.owned_by("Pod", rs)]
        ready = [p for p in pods if pod_ready(p)]
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": len(updated),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
            "conditions": [
                {"type": "Available", "status": "True" if len(ready) >= replicas else "False"},
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable"
                    if len(updated) == replicas and all(pod_ready(p) for p in updated)
                    else "ReplicaSetUpdated",
                },
            ],
        }
        if deployment.get("status") != status:
            deployment["status"] = status
            self.store.put(deployment)

    def _replicaset(self, rs: dict) -> None:
        pods = self.store.owned_by("Pod", rs)
        wanted = rs["spec"]["replicas"]
        for pod in pods[wanted:]:
            self.store.delete("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
        for _ in range(wanted - len(pods)):
            name = f"{rs['metadata']['name']}-{secrets.token_hex(3)[:5]}"
            self.store.put(new_pod(rs["metadata"]["namespace"], name, rs["spec"]["template"], rs))

    def _statefulset(self, sts: dict) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        revision = f"{meta['name']}-{template_hash(spec['template'])}"
        replicas = spec.get("replicas", 1)
        for index in range(replicas):
            name = f"{meta['name']}-{index}"
            pod = self.store.get("Pod", meta["namespace"], name)
            if pod is not None and pod["metadata"]["labels"].get("controller-revision-hash") != revision:
                self.store.delete("Pod", meta["namespace"], name)
                pod = None
            if pod is None:
                self.store.put(
                    new_pod(meta["namespace"], name, spec["template"], sts, {"controller-revision-hash": revision})
                )
        pods = self.store.owned_by("Pod", sts)
        updated = [p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") == revision]
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "currentReplicas": len(updated),
            "updatedReplicas": len(updated),
            "readyReplicas": sum(pod_ready(p) for p in pods),
            "availableReplicas": sum(pod_ready(p) for p in pods),
            "currentRevision": revision,
            "updateRevision": revision,
        }
        if sts.get("status") != status:
            sts["status"] = status
            self.store.put(sts)

    def _daemonset(self, ds: dict) -> None:
        meta, spec = ds["metadata"], ds["spec"]
        revision = template_hash(spec["template"])
        pods = self.store.owned_by("Pod", ds)
        for pod in pods:
            if pod["metadata"]["labels"].get("pod-template-generation") != revision:
                self.store.delete("Pod", meta["namespace"], pod["metadata"]["name"])
        have = {p["spec"].get("nodeName") for p in self.store.owned_by("Pod", ds)}
        for node in self.node_names:
            if node not in have:
                pod = new_pod(
                    meta["namespace"],
                    f"{meta['name']}-{secrets.token_hex(3)[:5]}",
                    spec["template"],
                    ds,
                    {"pod-template-generation": revision},
                )
                pod["spec"]["nodeName"] = node
                self.store.put(pod)
        pods = self.store.owned_by("Pod", ds)
        ready = sum(pod_ready(p) for p in pods)
        status = {
            "observedGeneration": meta.get("generation", 1),
            "desiredNumberScheduled": len(self.node_names),
            "currentNumberScheduled": len(pods),
            "updatedNumberScheduled": len(pods),
            "numberReady": ready,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
        }
        if ds.get("status") != status:
            ds["status"] = status
            self.store.put(ds)
