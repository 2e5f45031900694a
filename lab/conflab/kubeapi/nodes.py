# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Node objects as the API server shows them, from the lab nodes' status files."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path

from ..processes import alive

READY_STATES = {"control-plane": "unlocked", "worker": "joined"}
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


def _state(lab_dir: Path, name: str) -> str:
    """The node's own status, or "down" when its process is gone (a killed node leaves its last status behind)."""
    try:
        status = json.loads((lab_dir / "nodes" / name / "status.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    if not alive(status.get("pid")):
        return "down"
    return status.get("state", "unknown")


def node_object(config: dict, node: dict) -> dict:
    lab_dir = Path(config["dir"])
    ready = _state(lab_dir, node["name"]) == READY_STATES[node["role"]]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {"kubernetes.io/hostname": node["name"], "kubernetes.io/os": "linux"}
    if node["role"] == "control-plane":
        labels[CONTROL_PLANE_LABEL] = ""
    condition = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
        "reason": "KubeletReady" if ready else "KubeletNotReady",
        "message": "kubelet is posting ready status" if ready else "the node's state disk is locked",
    }
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": node["name"],
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, node["name"])),
            "labels": labels,
            "resourceVersion": "1",
            "creationTimestamp": now,
        },
        "spec": {},
        "status": {
            "conditions": [condition],
            "addresses": [{"type": "InternalIP", "address": node["ip"]}, {"type": "Hostname", "address": node["name"]}],
        },
    }


def node_list(config: dict) -> dict:
    return {
        "kind": "NodeList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "1"},
        "items": [node_object(config, n) for n in config["nodes"]],
    }
