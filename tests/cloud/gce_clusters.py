# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation clusters as Compute Engine lists them (compute/v1 JSON), per CLI generation."""

from __future__ import annotations

import zlib

PROJECT = "my-project-123"
UID = "0b7d22e4"


def _zone(zone: str) -> str:
    return f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/zones/{zone}"


def instance(
    name: str,
    ip: str | None,
    zone: str = "europe-west3-b",
    labels=None,
    metadata=None,
    status="RUNNING",
    serial: str = "",
) -> dict:
    raw = {
        "kind": "compute#instance",
        "id": str(zlib.crc32(name.encode()) * 7919),
        "name": name,
        "zone": _zone(zone),
        "status": status,
        "_serial": serial,
        "networkInterfaces": [{"name": "nic0", "networkIP": ip}] if ip else [],
    }
    if labels:
        raw["labels"] = labels
    if metadata:
        raw["metadata"] = {"items": [{"key": k, "value": v} for k, v in metadata.items()]}
    return raw


def current(uid: str = UID) -> list[dict]:
    """CLI v2.9+: MIG names <name>-<uid>-<role>-<8hex>, instances <mig>-<4 chars>, node-group labels."""
    nodes = []
    for i, zone in enumerate(("europe-west3-a", "europe-west3-b", "europe-west3-c")):
        nodes.append(
            instance(
                f"constell-{uid}-control-plane-5e6f7a8b-{'abcd'[i]}x1z",
                f"192.168.178.{2 + i}",
                zone,
                {
                    "constellation-uid": uid,
                    "constellation-role": "control-plane",
                    "constellation-node-group": "control_plane_default",
                },
            )
        )
    for i in range(2):
        nodes.append(
            instance(
                f"constell-{uid}-worker-1a2b3c4d-{i}q9w",
                f"192.168.178.{10 + i}",
                labels={
                    "constellation-uid": uid,
                    "constellation-role": "worker",
                    "constellation-node-group": "worker_default",
                },
            )
        )
    return nodes


def upgraded(uid: str = UID) -> list[dict]:
    """Created by CLI v2.7 and upgraded: old MIG names, labels without the node group (Terraform ignores label changes)."""
    return [
        instance(
            f"constell-{uid}-control-plane-{c}",
            f"192.168.178.{2 + i}",
            labels={"constellation-uid": uid, "constellation-role": "control-plane"},
        )
        for i, c in enumerate("xyz")
    ] + [
        instance(
            f"constell-{uid}-1-worker-q",
            "192.168.178.20",
            labels={"constellation-uid": uid, "constellation-role": "worker"},
        )
    ]


def v2_0(uid: str = "a1b2c") -> list[dict]:
    """CLI v2.0: uid (5 characters) and role (ControlPlane, Worker) as instance metadata, no labels."""
    return [
        instance(
            f"constell-control-plane-{uid}-{c}",
            f"10.9.0.{2 + i}",
            metadata={"constellation-uid": uid, "constellation-role": "ControlPlane"},
        )
        for i, c in enumerate("abc")
    ] + [
        instance(
            f"constell-worker-{uid}-d", "10.9.0.9", metadata={"constellation-uid": uid, "constellation-role": "Worker"}
        )
    ]


def model(instances: list[dict], **switches) -> dict:
    zones = sorted({i["zone"].rsplit("/", 1)[-1] for i in instances} | {"us-central1-a"})
    return {"project": PROJECT, "zones": zones, "instances": instances, **switches}


def disk_uuid_entry(raw: dict, disk_uuid: str, timestamp: str = "2026-11-20T08:00:00Z") -> dict:
    """The LogEntry a CLI v2.0 to v2.15 bootstrapper wrote after unlocking the node's disk."""
    zone = raw["zone"].rsplit("/", 1)[-1]
    return {
        "logName": f"projects/{PROJECT}/logs/constellation-boot-log",
        "insertId": f"{raw['id']}-{timestamp}",
        "resource": {"type": "gce_instance", "labels": {"project_id": PROJECT, "instance_id": raw["id"], "zone": zone}},
        "textPayload": f"Disk UUID: {disk_uuid}\n",
        "timestamp": timestamp,
    }
