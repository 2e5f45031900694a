# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What every cloud provider of the inventory answers: the cluster's instances, selected by their
``constellation-uid`` tag or label (never by name: names changed across CLI versions and upgraded clusters
keep the old ones), with their role, node group, private address and where their boot log is."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL_PLANE = "control-plane"
WORKER = "worker"
DEFAULT_NODE_GROUPS = {CONTROL_PLANE: "control_plane_default", WORKER: "worker_default"}
_ROLES = {"controlplane": CONTROL_PLANE, "control-plane": CONTROL_PLANE, "worker": WORKER}


class DiscoveryError(Exception):
    """Discovery cannot answer (no credentials, access denied, nothing found); the message says what to do."""


def role_from(value) -> str | None:
    """Upstream's role names, case-insensitive (``ControlPlane`` in v2.0 metadata, ``control-plane`` later)."""
    return _ROLES.get(str(value or "").strip().lower())


@dataclass
class Instance:
    name: str
    role: str
    private_ip: str | None
    node_group: str = ""
    status: str = ""
    cloud: dict = field(default_factory=dict)  # the provider's own identifiers (instance ID, zone, region...)
    boot_log: dict = field(default_factory=dict)  # where disk_uuid_lookup reads the serial console in the cloud
    saved_logs: dict = field(
        default_factory=dict
    )  # serial_console, cloud_log: paths of saved boot output (lab, static)

    def __post_init__(self):
        self.node_group = self.node_group or DEFAULT_NODE_GROUPS.get(self.role, "")


def require_instances(instances: list[Instance], uid: str, where: str) -> list[Instance]:
    if not instances:
        raise DiscoveryError(
            f"no running instance carries constellation-uid={uid} in {where}: check the uid "
            "(infrastructure.uid of constellation-state.yaml) and where the cluster runs "
            "(provider: in constellation-conf.yaml)"
        )
    return instances
