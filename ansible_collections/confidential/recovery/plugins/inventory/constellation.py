# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
name: constellation
short_description: Constellation cluster nodes from constellation-state.yaml and the cloud's instance list
version_added: 0.1.0
description:
  - Reads the cluster's C(constellation-state.yaml) (cluster endpoint, cluster ID, measurement salt) and
    lists the cluster's instances from the provider, with their role and where their boot output is.
  - Hosts land in the groups C(constellation), C(constellation_control_plane) and C(constellation_worker).
  - Every host runs with C(ansible_connection=local), because the modules talk to the nodes from the controller.
  - Host variables C(constellation_role), C(constellation_serial_console), C(constellation_cloud_log);
    group variables C(constellation_workspace), C(constellation_cluster_endpoint), C(constellation_cluster_id),
    C(constellation_measurement_salt), C(constellation_cluster_name).
  - Providers in this release are V(lab) (the lab twin's C(lab-cloud.json)) and V(static) (the instances
    listed in O(instances), for a real cluster until the cloud readers land). The cloud providers (AWS Auto
    Scaling groups, GCP instance groups, Azure scale sets) come in a later release.
author: confidential.recovery maintainers (@confidential-recovery)
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [confidential.recovery.constellation]
  provider:
    description: Where the instance list comes from.
    type: str
    required: true
    choices: [lab, static]
  state_file:
    description: Path of C(constellation-state.yaml), relative to the inventory file.
    type: str
    default: constellation-state.yaml
  lab_cloud_file:
    description: For O(provider=lab), the lab's instance list, relative to the inventory file.
    type: str
    default: lab-cloud.json
  instances:
    description:
      - For O(provider=static), the cluster's instances, each with C(name), C(private_ip) and C(role)
        (V(control-plane) or V(worker)), optionally C(serial_console) and C(cloud_log) (paths of saved boot output).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
---
# cluster.constellation.yml (the lab writes one like it)
plugin: confidential.recovery.constellation
provider: lab
state_file: constellation-state.yaml
lab_cloud_file: lab-cloud.json

---
# cluster.constellation.yml for a real cluster, instances listed by hand
plugin: confidential.recovery.constellation
provider: static
state_file: constellation-state.yaml
instances:
  - {name: mycluster-control-plane-0, private_ip: 10.9.0.5, role: control-plane}
  - {name: mycluster-control-plane-1, private_ip: 10.9.0.6, role: control-plane}
  - {name: mycluster-control-plane-2, private_ip: 10.9.0.7, role: control-plane}
"""

import json
import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

ROLE_GROUPS = {"control-plane": "constellation_control_plane", "worker": "constellation_worker"}


class InventoryModule(BaseInventoryPlugin):
    NAME = "confidential.recovery.constellation"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".constellation.yml", ".constellation.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        base = os.path.dirname(os.path.abspath(path))
        state_path = os.path.join(base, os.path.expanduser(self.get_option("state_file")))
        state = self._load_state(state_path)
        if self.get_option("provider") == "static":
            instances = self.get_option("instances")
        else:
            instances = self._lab_instances(os.path.join(base, os.path.expanduser(self.get_option("lab_cloud_file"))))

        self.inventory.add_group("constellation")
        for group in ROLE_GROUPS.values():
            self.inventory.add_group(group)
            self.inventory.add_child("constellation", group)
        infrastructure, values = state.get("infrastructure") or {}, state.get("clusterValues") or {}
        group_vars = {
            "constellation_workspace": os.path.dirname(state_path),
            "constellation_cluster_endpoint": infrastructure.get("clusterEndpoint"),
            "constellation_cluster_name": infrastructure.get("name"),
            "constellation_cluster_id": values.get("clusterID"),
            "constellation_measurement_salt": values.get("measurementSalt"),
        }
        for name, value in group_vars.items():
            self.inventory.set_variable("constellation", name, value)
        for instance in instances:
            role = instance.get("role")
            if role not in ROLE_GROUPS:
                raise AnsibleParserError(f"instance {instance.get('name')!r} has unknown role {role!r}")
            if not instance.get("name") or not instance.get("private_ip"):
                raise AnsibleParserError(f"every instance needs name and private_ip (got {instance!r})")
            host = instance["name"]
            self.inventory.add_host(host, group=ROLE_GROUPS[role])
            self.inventory.set_variable(host, "ansible_host", instance["private_ip"])
            self.inventory.set_variable(host, "ansible_connection", "local")
            self.inventory.set_variable(host, "constellation_role", role)
            self.inventory.set_variable(host, "constellation_instance_status", instance.get("status"))
            for key in ("serial_console", "cloud_log"):
                if instance.get(key):
                    self.inventory.set_variable(host, f"constellation_{key}", instance[key])

    @staticmethod
    def _load_state(path):
        if not HAS_YAML:
            raise AnsibleParserError("the constellation inventory needs PyYAML")
        try:
            with open(path, encoding="utf-8") as handle:
                state = yaml.safe_load(handle)
        except OSError as exc:
            raise AnsibleParserError(f"cannot read the Constellation state file {path}: {exc.strerror}") from exc
        if not isinstance(state, dict) or state.get("version") != "v1":
            raise AnsibleParserError(f"{path} is not a constellation-state.yaml (expected version: v1)")
        missing = [k for k in ("clusterID", "measurementSalt") if not (state.get("clusterValues") or {}).get(k)]
        if not (state.get("infrastructure") or {}).get("clusterEndpoint"):
            missing.append("infrastructure.clusterEndpoint")
        if missing:
            raise AnsibleParserError(f"{path} lacks {', '.join(missing)}")
        return state

    @staticmethod
    def _lab_instances(path):
        try:
            with open(path, encoding="utf-8") as handle:
                doc = json.load(handle)
        except (OSError, ValueError) as exc:
            raise AnsibleParserError(f"cannot read the lab instance list {path}: {exc}") from exc
        return doc.get("instances") or []
