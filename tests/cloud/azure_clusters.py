# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation clusters as Azure Resource Manager lists them, per CLI generation (models for conflab.arm_api)."""

from __future__ import annotations

SUBSCRIPTION = "0d202bbb-4fa7-4af8-8125-58c269a05435"
GROUP = "constell-rg"
UID = "1a2b3c4d"


def vms(prefix: str, count: int, first_ip: int, serial: str = "") -> list[dict]:
    return [
        {
            "instance_id": str(i),
            "computer_name": f"{prefix}{i:06d}",
            "ip": f"10.9.0.{first_ip + i}",
            "power": "running",
            "serial": serial,
        }
        for i in range(count)
    ]


def current(uid: str = UID) -> list[dict]:
    """v2.9+: <name>-<uid>-<role>-<8 hex>, tags with the node group."""
    return [
        {
            "name": f"constell-{uid}-control-plane-5e6f7a8b",
            "vms": vms(f"constell-{uid}-control-plane-5e6f7a8b", 3, 5),
            "tags": {
                "constellation-uid": uid,
                "constellation-role": "control-plane",
                "constellation-node-group": "control_plane_default",
            },
        },
        {
            "name": f"constell-{uid}-worker-9a8b7c6d",
            "vms": vms(f"constell-{uid}-worker-9a8b7c6d", 2, 20),
            "tags": {
                "constellation-uid": uid,
                "constellation-role": "worker",
                "constellation-node-group": "worker_default",
            },
        },
    ]


def upgraded(uid: str = UID) -> list[dict]:
    """v2.2 to v2.8 names, no node-group tag."""
    return [
        {
            "name": f"constell-{uid}-control-plane",
            "vms": vms(f"constell-{uid}-control-plane", 3, 5),
            "tags": {"constellation-uid": uid, "constellation-role": "control-plane"},
        },
        {
            "name": f"constell-{uid}-worker",
            "vms": vms(f"constell-{uid}-worker", 1, 20),
            "tags": {"constellation-uid": uid, "constellation-role": "worker"},
        },
    ]


def v2_0(uid: str = "a1b2c") -> list[dict]:
    """v2.0 and v2.1: tag uid, the role only in the scale set's name."""
    return [
        {
            "name": f"constellation-scale-set-controlplanes-{uid}",
            "vms": vms("constell-control-plane-", 3, 5),
            "tags": {"uid": uid},
        },
        {"name": f"constellation-scale-set-workers-{uid}", "vms": vms("constell-worker-", 1, 20), "tags": {"uid": uid}},
    ]


def model(scale_sets: list[dict], **switches) -> dict:
    return {"subscription": SUBSCRIPTION, "resource_group": GROUP, "scale_sets": scale_sets, **switches}
