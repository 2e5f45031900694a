# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The Coordinator's pods, as the Kubernetes API lists them: upstream's StatefulSet ``coordinator`` labels every
replica ``app.kubernetes.io/name=coordinator`` and names it ``coordinator-<ordinal>`` (docs/contrast-protocol.md,
Several Coordinators). An entry of the list that is not a pod with a name is left out; no field of it is trusted
to be of the right type."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._pod_status import has_ready_condition, metadata_of, status_of

COORDINATOR_SELECTOR = "app.kubernetes.io/name=coordinator"
_ORDINAL = re.compile(r"-(\d{1,6})$")


@dataclass(frozen=True)
class CoordinatorPod:
    name: str
    ordinal: int | None  # from the StatefulSet's name suffix; None for a pod that is not named that way
    phase: str  # Running, Pending, ... or "unknown"
    ip: str | None
    ready: bool  # the API's Ready condition: upstream's readiness probe passes only with current state

    @property
    def running(self) -> bool:
        return self.phase == "Running"


def _pod(item) -> CoordinatorPod | None:
    meta, status = metadata_of(item), status_of(item)
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None
    ready = has_ready_condition(status)
    phase = status.get("phase") if isinstance(status.get("phase"), str) else "unknown"
    ip = status.get("podIP") if isinstance(status.get("podIP"), str) and status.get("podIP") else None
    found = _ORDINAL.search(name)
    return CoordinatorPod(name, int(found.group(1)) if found else None, phase, ip, ready)


def looks_for_several(replicas: str, api_named: bool) -> bool:
    """Whether the Coordinator pods are listed at all (the ``replicas`` option of coordinator_recover and
    coordinator_forwarder): always with ``all``; with ``auto`` only when a kubeconfig or host names the API, since with
    the client's default file ``auto`` keeps to the one Coordinator at the given address."""
    return replicas == "all" or (replicas == "auto" and api_named)


def handled_as_a_set(replicas: str, pods: list) -> bool:
    """Once listed: ``all`` is a set whatever the count, ``auto`` from two pods on."""
    return replicas == "all" or len(pods) > 1


def coordinator_pods(items) -> list[CoordinatorPod]:
    """The pods of ``items`` (the API's pod list), lowest ordinal first (pods without one last, by name)."""
    pods = [pod for pod in map(_pod, items if isinstance(items, list) else []) if pod is not None]
    unique = {pod.name: pod for pod in pods}
    return sorted(unique.values(), key=lambda p: (p.ordinal is None, p.ordinal or 0, p.name))
