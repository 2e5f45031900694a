# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Where each lab Coordinator replica lives: its pod name, loopback address, process name and state directory.

Replica 0 keeps the single Coordinator's address (the ``coordinator`` Service's load-balancer address, as before
replicas existed), its process name and its state directory; replica i > 0 answers on ``<prefix>.<90 + i>``. The
manifest history (upstream's ConfigMaps) is shared by all of them, in ``contrast-lab/store``.
"""

from __future__ import annotations

from pathlib import Path

MAX_REPLICAS = 9
MESH_API_PORT = 7777
UPSTREAM_PEER_INTERVAL = 15.0  # seconds between a waiting Coordinator's peer-recovery attempts


def state_dir(lab_dir: Path) -> Path:
    return Path(lab_dir) / "contrast-lab"


def count(config: dict) -> int:
    return int(config["coordinator"].get("replicas", 1))


def pod_name(replica: int) -> str:
    return f"coordinator-{replica}"


def ordinal(pod: str) -> int | None:
    """The replica number of a pod name such as ``coordinator-2``; None for any other name."""
    prefix, _, number = pod.rpartition("-")
    return int(number) if prefix == "coordinator" and number.isdigit() else None


def address(config: dict, replica: int) -> str:
    settings = config["coordinator"]
    return settings["ip"] if replica == 0 else f"{config['ip_prefix']}.{90 + replica}"


def process_name(replica: int) -> str:
    return "coordinator" if replica == 0 else f"coordinator-{replica}"


def replica_dir(lab_dir: Path, replica: int) -> Path:
    folder = state_dir(lab_dir)
    return folder if replica == 0 else folder / f"replica-{replica}"


def select(config: dict, spec: str) -> list[int]:
    """``all``, or replica numbers separated by commas (``1`` or ``0,2``)."""
    total = count(config)
    if spec == "all":
        return list(range(total))
    chosen = []
    for part in spec.split(","):
        if not part.strip().isdigit() or int(part) >= total:
            raise ValueError(f"the lab has Coordinator replicas 0..{total - 1}; {part!r} is not one of them")
        chosen.append(int(part))
    return sorted(set(chosen))
