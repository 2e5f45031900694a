# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Lab-wide fault switches in ``D/faults.json``, read by the lab's processes on every use.

Keys: ``kubeapi`` ("stall"), ``workloads`` ("fail"), ``lb`` ("stale-pool", or "flapping" with ``lb_flap_period``), and
``reboot_after_push`` (node names that reboot once, right after they received a key),
``wrong_measurement``, ``malformed_evidence`` and ``etcd_fails`` (node names whose evidence or etcd member is broken),
``coordinator_presents`` (the demo workload whose policy hash the Coordinator shows), and ``new_pods``
("unschedulable": pods created through the API stay Pending).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE = "faults.json"


def read(lab_dir) -> dict:
    try:
        doc = json.loads((Path(lab_dir) / FILE).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write(lab_dir, faults: dict) -> None:
    path = Path(lab_dir) / FILE
    tmp = path.with_name(FILE + ".tmp")
    tmp.write_text(json.dumps(faults))
    os.replace(tmp, path)


def update(lab_dir, **changes) -> dict:
    faults = read(lab_dir)
    for key, value in changes.items():
        if value is None:
            faults.pop(key, None)
        else:
            faults[key] = value
    write(lab_dir, faults)
    return faults


def take_reboot_after_push(lab_dir, name: str) -> bool:
    """True once for a node listed in reboot_after_push (the entry is consumed)."""
    faults = read(lab_dir)
    names = list(faults.get("reboot_after_push") or [])
    if name not in names:
        return False
    names.remove(name)
    update(lab_dir, reboot_after_push=names or None)
    return True
