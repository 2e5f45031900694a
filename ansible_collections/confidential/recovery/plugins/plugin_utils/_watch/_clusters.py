# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The clusters to watch, from the inventory the recovery playbook uses (``ansible-inventory --list``).

Each cluster is the group the constellation inventory plugin gives it (``constellation_cluster_group``, by default
``constellation``); its variables are read from its leader, the first control-plane host by name, as the
constellation_recover role reads them. The variables are the playbook's own (``constellation_recover_*``,
``contrast_recover_*``), for example from ``group_vars/all.yml`` beside the inventory file. Only literal values are
used: the watch does not template, so a value with ``{{`` is refused rather than guessed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ...module_utils._net._addresses import AddressError, check_host


class InventoryError(Exception):
    """The inventory cannot be watched; the message says why."""


@dataclass(frozen=True)
class Node:
    name: str
    address: str


@dataclass(frozen=True)
class WatchedCluster:
    name: str
    nodes: tuple
    kubeconfig: str
    attestation: dict  # recovery_status_info's attestation options
    port: int | None = None
    coordinator: dict | None = None  # coordinator_recover's options, read-only ones; None: not watched
    variables: dict = field(default_factory=dict, compare=False, repr=False)


CONSTELLATION_OPTIONS = {
    "attestation": "constellation_recover_attestation",
    "attestation_config": "constellation_recover_attestation_config",
    "attestation_trust_anchor": "constellation_recover_attestation_trust_anchor",
    "attestation_collateral_dir": "constellation_recover_attestation_collateral_dir",
}
CONTRAST_OPTIONS = {
    "coordinator": "contrast_recover_coordinator",
    "attestation": "contrast_recover_attestation",
    "workspace_dir": "contrast_recover_workspace_dir",
    "attestation_trust_anchor": "contrast_recover_attestation_trust_anchor",
    "attestation_collateral_dir": "contrast_recover_attestation_collateral_dir",
    "coordinator_policy_hash": "contrast_recover_coordinator_policy_hash",
}


def _literal(variables: dict, name: str, where: str):
    value = variables.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int, float, bool)):
        raise InventoryError(f"{where}: {name} must be a plain value, not {type(value).__name__}")
    if isinstance(value, str) and "{{" in value:
        raise InventoryError(f"{where}: {name} is a template ({value[:80]}); give the watch a literal value")
    return value


def _options(variables: dict, names: dict, where: str) -> dict:
    found = {option: _literal(variables, variable, where) for option, variable in names.items()}
    return {option: value for option, value in found.items() if value is not None}


def _hosts(document: dict, group: str) -> list[str]:
    """The hosts of ``group`` and of its children, as ansible-inventory --list gives them."""
    seen, hosts, todo = set(), [], [group]
    while todo:
        name = todo.pop()
        if name in seen or not isinstance(document.get(name), dict):
            continue
        seen.add(name)
        entry = document[name]
        hosts += _names(entry.get("hosts"))
        todo += _names(entry.get("children"))
    return sorted(set(hosts))


def _plain(value, depth: int = 0):
    """ansible-inventory (ansible-core 2.19 and later) marks strings from inventory sources as unsafe:
    ``{"__ansible_unsafe": "text"}``. The watch never templates, so an unsafe string is just the string."""
    if depth > 64:
        raise InventoryError("ansible-inventory printed JSON nested too deeply")
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("__ansible_unsafe"), str):
            return value["__ansible_unsafe"]
        return {key: _plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, depth + 1) for item in value]
    return value


def _names(value) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def clusters_from_inventory(text: str, watch_contrast: bool | None = None) -> list[WatchedCluster]:
    """The clusters of an ``ansible-inventory --list`` document. Raises InventoryError, and nothing else, on any
    input."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InventoryError(f"ansible-inventory did not print JSON: {str(exc)[:200]}") from exc
    if not isinstance(document, dict):
        raise InventoryError("ansible-inventory printed JSON that is not an object")
    document = _plain(document)
    meta = document.get("_meta") if isinstance(document.get("_meta"), dict) else {}
    hostvars = meta.get("hostvars") if isinstance(meta.get("hostvars"), dict) else {}
    control_plane = _hosts(document, "constellation_control_plane")
    if not control_plane:
        raise InventoryError(
            "the inventory has no host in group constellation_control_plane: use the confidential.recovery."
            "constellation inventory, as the recovery playbook does"
        )
    by_cluster: dict[str, list[str]] = {}
    for host in control_plane:
        variables = hostvars.get(host) if isinstance(hostvars.get(host), dict) else {}
        group = variables.get("constellation_cluster_group") or "constellation"
        if not isinstance(group, str):
            raise InventoryError(f"{host}: constellation_cluster_group must be a string")
        by_cluster.setdefault(group, []).append(host)
    return [_cluster(name, sorted(hosts), hostvars, watch_contrast) for name, hosts in sorted(by_cluster.items())]


def _cluster(name: str, hosts: list[str], hostvars: dict, watch_contrast: bool | None) -> WatchedCluster:
    leader = hosts[0]
    variables = hostvars.get(leader) if isinstance(hostvars.get(leader), dict) else {}
    where = f"cluster {name} (variables of {leader})"
    nodes = []
    for host in hosts:
        host_vars = hostvars.get(host) if isinstance(hostvars.get(host), dict) else {}
        address = host_vars.get("ansible_host") or host
        try:
            nodes.append(Node(host, check_host(str(address), f"{host}'s ansible_host")))
        except AddressError as exc:
            raise InventoryError(f"{where}: {exc}") from exc
    workspace = _literal(variables, "constellation_workspace", where) or "."
    attestation = _options(variables, CONSTELLATION_OPTIONS, where)
    if "attestation" not in attestation:
        raise InventoryError(
            f"{where}: constellation_recover_attestation is not set; the watch attests every node it reports as "
            "waiting, as the recovery does, and does not guess a variant"
        )
    attestation.setdefault("attestation_config", os.path.join(str(workspace), "constellation-conf.yaml"))
    kubeconfig = _literal(variables, "constellation_recover_kubeconfig", where) or os.path.join(
        str(workspace), "constellation-admin.conf"
    )
    port = _literal(variables, "constellation_recover_port", where)
    try:
        port = int(port) if port is not None else None
    except (TypeError, ValueError) as exc:
        raise InventoryError(f"{where}: constellation_recover_port must be a number") from exc
    contrast = _options(variables, CONTRAST_OPTIONS, where)
    wanted = watch_contrast if watch_contrast is not None else "coordinator" in contrast
    coordinator = None
    if wanted:
        missing = [CONTRAST_OPTIONS[o] for o in ("coordinator", "attestation") if o not in contrast]
        if missing:
            raise InventoryError(f"{where}: watching the Coordinator needs {', '.join(missing)}")
        contrast.setdefault("workspace_dir", ".")
        coordinator = contrast
    return WatchedCluster(name, tuple(nodes), str(kubeconfig), attestation, port, coordinator, variables)
