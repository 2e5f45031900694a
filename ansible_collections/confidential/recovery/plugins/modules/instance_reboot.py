#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_reboot
short_description: Reboot a drill's named control-plane instances through their cloud's API, after a reviewed plan
version_added: 0.2.0
description:
  - Breaks a real cluster for a disaster-recovery drill by rebooting the control-plane instances in O(instances),
    in parallel, each through its cloud's API with the SDK clients discovery uses. GCP C(instances.reset)
    (the Compute Engine REST API, waiting for the zone operation), AWS C(ec2:RebootInstances) (boto3), Azure scale-set VM
    C(restart) (azure-mgmt-compute, waiting for the long-running operation).
  - A rebooted Constellation control-plane node comes back with its state disk locked; without etcd quorum it waits
    for its key, which is what the drill's recovery then pushes.
  - B(Two runs.) In check mode the module checks the instances and writes the plan, the instances it would reboot,
    to O(plan_file) for review, and reboots nothing; that file is the only thing check mode writes. The run that
    reboots needs O(confirm) equal to O(cluster_name) and a plan at O(plan_file) that names exactly the same instances
    of the same cluster and is at most O(plan_max_age) seconds old. It marks the plan used before the first call,
    so each reboot run needs a new check-mode run.
  - It never reboots an instance that is not in O(instances), and refuses, before any call, when one of them is not a
    control-plane instance or names no cloud API (the lab and static providers have none).
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
attributes:
  check_mode:
    support: full
    details: Writes the reviewed plan to O(plan_file) and reboots nothing.
  diff_mode:
    support: none
options:
  instances:
    description: The instances to reboot.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The inventory host name of the instance.
        type: str
        required: true
      role:
        description: The host's C(constellation_role); only V(control-plane) is accepted.
        type: str
        required: true
      locator:
        description:
          - The host's C(constellation_boot_log) variable from the C(confidential.recovery.constellation) inventory.
            It names the instance (project, zone and name; region and instance ID; subscription, resource group,
            scale set and instance ID) and how discovery reached the cloud API. It holds no secret.
        type: dict
        required: true
  cluster_name:
    description: The cluster's name (the inventory's C(constellation_cluster_name)).
    type: str
    required: true
  confirm:
    description: Must be the cluster's name for the reboot run. Not needed in check mode.
    type: str
  plan_file:
    description: Where check mode writes the plan, and where the reboot run reads it.
    type: path
    required: true
  plan_max_age:
    description: How many seconds a plan stays valid.
    type: float
    default: 3600
  timeout:
    description: Seconds to wait for each cloud call, and for its operation to finish.
    type: float
    default: 120
requirements:
  - google-auth and google-api-core for GCP, boto3 for AWS, azure-identity and azure-mgmt-compute for Azure (as for discovery)
notes:
  - Credentials come as for discovery. On GCP the identity needs C(compute.instances.reset), on AWS
    C(ec2:RebootInstances), on Azure C(Microsoft.Compute/virtualMachineScaleSets/virtualMachines/restart/action).
seealso:
  - plugin: confidential.recovery.constellation
    plugin_type: inventory
  - module: confidential.recovery.drill_report
"""

EXAMPLES = r"""
- name: Review what the drill would reboot (writes the plan, reboots nothing)
  confidential.recovery.instance_reboot:
    instances: &drill_instances
      - name: prod-eu-control-plane-0
        role: "{{ hostvars['prod-eu-control-plane-0'].constellation_role }}"
        locator: "{{ hostvars['prod-eu-control-plane-0'].constellation_boot_log }}"
      - name: prod-eu-control-plane-1
        role: "{{ hostvars['prod-eu-control-plane-1'].constellation_role }}"
        locator: "{{ hostvars['prod-eu-control-plane-1'].constellation_boot_log }}"
    cluster_name: prod-eu
    plan_file: drills/reboot-plan.json
  check_mode: true

- name: Reboot them, within the hour, on the operator's confirmation
  confidential.recovery.instance_reboot:
    instances: *drill_instances
    cluster_name: prod-eu
    confirm: "{{ drill_confirm }}"
    plan_file: drills/reboot-plan.json
"""

RETURN = r"""
planned:
  description: The plan, written in check mode or read for the reboot run.
  returned: success
  type: dict
  sample:
    schema: 1
    cluster: prod-eu
    planned_at: "2026-12-05T03:02:11+00:00"
    instances: [{"name": "prod-eu-control-plane-0", "source": "gcp-serial-port", "project": "p", "zone": "europe-west3-b",
                 "instance": "prod-eu-control-plane-0"}]
    fingerprint: 5d41402abc4b2a76b9719d911017c592ae0b5e0b1f0f0c2f3a1c7e4e1b1a2c3d
rebooted:
  description: Per instance, whether its cloud accepted the reboot, how it was asked, or the error. Empty in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "prod-eu-control-plane-0", "rebooted": true, "how": "GCP instances.reset of p/europe-west3-b/prod-eu-control-plane-0 (operation-1)"}]
plan_file:
  description: The plan's path.
  returned: success
  type: str
  sample: drills/reboot-plan.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._instance_reboot import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instances=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    name=dict(type="str", required=True),
                    role=dict(type="str", required=True),
                    locator=dict(type="dict", required=True),
                ),
            ),
            cluster_name=dict(type="str", required=True),
            confirm=dict(type="str"),
            plan_file=dict(type="path", required=True),
            plan_max_age=dict(type="float", default=3600),
            timeout=dict(type="float", default=120),
        ),
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
