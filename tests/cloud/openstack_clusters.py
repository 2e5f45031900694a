# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation clusters as Nova lists them (GET /servers/detail), per layout of Constellation's OpenStack Terraform:
current (CLI v2.17 and later: uid, role and node-group tags; metadata with the role, uid and init-secret hash only)
and older (CLI v2.6 to v2.8: uid and role tags, no node group; from v2.7 the OpenStack credentials in metadata)."""

from __future__ import annotations

import uuid

REGION = "RegionOne"
UID = "1a2b3c4d"
USER = "constellation-admin"
PASSWORD = "s3cret-openstack-password"  # noqa: S105 - the double's test credential
DISK_UUID = "6a1f0c3e-4b2d-4e8a-9c1f-2b3d4e5f6a7b"


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def console(disk_uuid: str = DISK_UUID, waiting: bool = True) -> str:
    """A node's console as Nova keeps it: kernel lines, then the disk-mapper's JSON lines (slog, CLI v2.16 and later)."""
    lines = [
        "[    0.000000] Linux version 6.6.0 (constellation) #1 SMP",
        "[    1.204511] systemd[1]: Starting prepare-state-disk.service...",
        '{"time":"2026-12-06T01:00:00Z","level":"INFO","source":{"function":"setup.PrepareExistingDisk"},'
        f'"msg":"Preparing existing state disk","uuid":"{disk_uuid}"}}',
    ]
    if waiting:
        lines += [
            '{"time":"2026-12-06T01:00:01Z","level":"INFO","msg":"Starting RejoinClient"}',
            '{"time":"2026-12-06T01:00:01Z","level":"INFO","msg":"Starting RecoveryServer"}',
        ]
    return "\n".join(lines) + "\n"


def server(name: str, ip: str | None, tags: list[str], metadata: dict, network: str, status="ACTIVE", text="") -> dict:
    addresses = {}
    if ip:
        addresses[network] = [
            {"addr": ip, "version": 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}
        ]
    return {
        "id": _id(name),
        "name": name,
        "status": status,
        "tags": tags,
        "metadata": metadata,
        "addresses": addresses,
        "console": text,
    }


def current(uid: str = UID, name: str = "constell") -> list[dict]:
    """CLI v2.9+ names <name>-<uid>-<role>-<group uid>-<index>; tags with the node group (v2.17+ shown)."""
    network = f"{name}-{uid}"
    nodes = []
    for role, group, group_uid, count, first_ip in (
        ("control-plane", "control_plane_default", "9f8e7d6c", 3, 10),
        ("worker", "worker_default", "5a4b3c2d", 2, 20),
    ):
        for index in range(count):
            tags = sorted(
                {f"constellation-uid-{uid}", f"constellation-role-{role}", f"constellation-node-group-{group}"}
            )
            metadata = {
                "constellation-role": role,
                "constellation-uid": uid,
                "constellation-init-secret-hash": "$2a$10$abc",
            }
            nodes.append(
                server(
                    f"{name}-{uid}-{role}-{group_uid}-{index}",
                    f"192.168.178.{first_ip + index}",
                    tags,
                    metadata,
                    network,
                    text=console(f"{DISK_UUID[:-2]}{first_ip + index:02d}") if role == "control-plane" else "",
                )
            )
    return nodes


def older(uid: str = UID, name: str = "constell") -> list[dict]:
    """CLI v2.7/v2.8: names <name>-<uid>-<role>-<index>, no node-group tag, the OpenStack credentials in metadata."""
    network = f"{name}-{uid}"
    nodes = []
    for role, count, first_ip in (("control-plane", 3, 10), ("worker", 1, 20)):
        for index in range(count):
            metadata = {
                "constellation-role": role,
                "constellation-uid": uid,
                "constellation-init-secret-hash": "$2a$10$abc",
                "openstack-auth-url": "https://keystone.example/v3",
                "openstack-username": USER,
                "openstack-password": PASSWORD,
                "openstack-user-domain-name": "Default",
            }
            nodes.append(
                server(
                    f"{name}-{uid}-{role}-{index}",
                    f"192.168.178.{first_ip + index}",
                    [f"constellation-uid-{uid}", f"constellation-role-{role}"],
                    metadata,
                    network,
                )
            )
    return nodes


def model(servers: list[dict], page_size: int = 1000, **extra) -> dict:
    return {
        "region": REGION,
        "project": "constellation",
        "user": USER,
        "password": PASSWORD,
        "servers": servers,
        "page_size": page_size,
        **extra,
    }


def clouds_yaml(path, auth_url: str, cloud: str = "stackit", password: str = PASSWORD) -> str:
    """A clouds.yaml as STACKIT's docs have users write it (user access token: user name and password)."""
    path.write_text(
        "clouds:\n"
        f"  {cloud}:\n"
        "    auth:\n"
        f"      auth_url: {auth_url}\n"
        f"      username: {USER}\n"
        f"      password: {password}\n"
        "      project_id: p-1\n"
        "      project_name: constellation\n"
        "      user_domain_name: Default\n"
        "      project_domain_name: Default\n"
        f"    region_name: {REGION}\n"
        "    interface: public\n"
        "    identity_api_version: 3\n"
    )
    return str(path)
