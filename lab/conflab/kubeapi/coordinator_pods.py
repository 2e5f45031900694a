# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator StatefulSet's pods as the lab's Coordinator processes make them: pod IP, phase and the Ready
condition, which upstream's readiness probe (/probe/readiness on 9102) gives only to a Coordinator with current state."""

from __future__ import annotations

from ..contrast import replicas
from .store import now_iso

IMAGE = "ghcr.io/edgelesssys/contrast/coordinator:v1.9.0"


def coordinator_pod_status(config: dict, pod: dict) -> dict | None:
    """The status of ``pod`` when it is one of the lab's Coordinator replicas; None for every other pod."""
    if not config["coordinator"].get("enabled", True):
        return None
    meta = pod["metadata"]
    replica = replicas.ordinal(meta["name"])
    if meta.get("labels", {}).get("app.kubernetes.io/name") != "coordinator" or replica is None:
        return None
    if replica >= replicas.count(config):
        return None
    from ..contrast import control  # the process table and status files; only a lab with Contrast has them

    state = control.status(config, replica)["state"]
    if state == "down":
        return {
            "phase": "Pending",
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        }
    ip = replicas.address(config, replica)
    ready = state == "ready"
    previous = next((c for c in pod["status"].get("conditions") or [] if c.get("type") == "Ready"), {})
    since = previous.get("lastTransitionTime") if previous.get("status") == ("True" if ready else "False") else None
    return {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": since or now_iso()}
        ],
        "containerStatuses": [
            {
                "name": "coordinator",
                "image": IMAGE,
                "imageID": "",
                "ready": ready,
                "restartCount": 0,
                "started": True,
            }
        ],
    }
