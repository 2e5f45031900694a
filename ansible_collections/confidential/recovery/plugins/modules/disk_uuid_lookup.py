#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_uuid_lookup
short_description: Find a Constellation node's state-disk UUID in its boot output
version_added: 0.1.0
description:
  - The pre-v2.0 key service needs the node's disk UUID from the caller, and the upstream docs have the
    user read it from the serial console or cloud logging. This module reads it from the same text.
  - It understands the disk-mapper's C(Preparing existing state disk) line (slog and zap) and the
    bootstrapper's C(Disk UUID <uuid>) line. The last UUID printed wins.
  - It also says what the newest boot in the log shows (O(ignore:node_state) in the result) and which line says so.
  - The text comes from the node's serial console in its cloud (O(boot_log), as the constellation inventory
    sets it), from saved files, or from O(text). The cloud consoles are GCP's serial port, AWS's console output,
    Azure's boot diagnostics (the serial-console blob) and OpenStack's console output (Nova's C(os-getConsoleOutput),
    with the cloud of C(clouds.yaml) that the inventory used).
  - Consoles of CLI v2.0 to v2.5 print no UUID. The bootstrapper of CLI v2.0 to v2.15 also wrote C(Disk UUID <uuid>)
    to the cloud's logging service, which keeps it 30 days; with O(cloud_logging), that is asked last (GCP log
    C(constellation-boot-log), the cluster's CloudWatch group, the cluster's Application Insights C(traces)).
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attributes.read_only
requirements:
  - google-auth and google-api-core (for a GCP serial console)
  - google-cloud-logging (for GCP cloud logging)
  - boto3 (for an AWS console and CloudWatch)
  - azure-identity and azure-mgmt-compute (for an Azure console)
  - azure-monitor-query (for Azure Application Insights)
  - openstacksdk (for an OpenStack console)
options:
  serial_console:
    description: Path of a file with the node's serial console output.
    type: path
  cloud_log:
    description: Path of a file with the node's cloud logging output.
    type: path
  text:
    description: Boot output given directly.
    type: str
  boot_log:
    description:
      - Where the node's serial console is, as the constellation inventory's C(constellation_boot_log) host
        variable gives it.
      - C(source) is V(gcp-serial-port) (with C(project), C(zone), C(instance), optionally C(auth_kind),
        C(service_account_file), C(api_endpoint)), V(aws-console-output) (with C(instance_id), C(region),
        optionally C(profile), C(endpoint_url)) or V(azure-boot-diagnostics) (with C(subscription_id),
        C(resource_group), C(scale_set), C(instance_id), optionally C(auth_source), C(base_url)).
      - For O(cloud_logging), the inventory also sets C(log_name) (the cluster's Terraform name, which names the
        CloudWatch group and the Application Insights component), C(uid), C(instance_id) (GCP's numeric ID) and
        C(computer_name) (Azure). C(logging_endpoint) (GCP) and C(logs_endpoint) (Azure) point the query
        elsewhere, such as a double.
      - Credentials are those of discovery (Application Default Credentials, boto3's chain); this option holds none.
    type: dict
  cloud_logging:
    description:
      - When the other sources hold no UUID, search the cloud's logging service of clusters made with CLI v2.0 to
        v2.15 (needs O(boot_log)). A missing log or component is reported with the other sources, not raised.
    type: bool
    default: true
  timeout:
    description: Seconds allowed for each cloud API call.
    type: float
    default: 30
seealso:
  - module: confidential.recovery.node_recover
  - module: confidential.recovery.quorum_recover
"""

EXAMPLES = r"""
- name: Read the disk UUID from the node's serial console in its cloud
  confidential.recovery.disk_uuid_lookup:
    boot_log: "{{ constellation_boot_log }}"
  register: disk

- name: Read the disk UUID from the lab node's cloud log
  confidential.recovery.disk_uuid_lookup:
    cloud_log: "{{ constellation_cloud_log }}"
  register: disk

- name: Push to a pre-v2.0 node
  confidential.recovery.node_recover:
    endpoint: "{{ ansible_host }}"
    protocol: keyservice
    disk_uuid: "{{ disk.disk_uuid }}"
    master_secret_file: constellation-mastersecret.json
    attestation: lab
"""

RETURN = r"""
disk_uuid:
  description: The state-disk UUID, lowercase (as the key derivation needs it).
  returned: success
  type: str
  sample: 2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e
source:
  description: Which source and kind of line it came from.
  returned: success
  type: str
  sample: "cloud_log: Disk UUID"
node_state:
  description:
    - What the newest boot in the log shows. V(waiting) for a recovery key (the disk is locked), V(unlocked),
      V(fresh) (a new disk, first boot), or V(unknown).
  returned: always
  type: str
  sample: waiting
evidence:
  description: The log line that node_state rests on.
  returned: always
  type: str
  sample: '{"time":"2025-05-02T08:14:11.2Z","level":"INFO","msg":"Preparing existing state disk"}'
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.confidential.recovery.plugins.module_utils._backends._disk_uuid_lookup import run
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _aws as _discovery_aws,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _azure as _discovery_azure,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _gcp as _discovery_gcp,
)
from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
    _openstack as _discovery_openstack,
)

# The library each cloud console needs: (pip name, available, import error).
CONSOLE_LIBRARIES = {
    "gcp-serial-port": ("google-api-core", _discovery_gcp.HAS_GOOGLE, _discovery_gcp.GOOGLE_IMPORT_ERROR),
    "aws-console-output": ("boto3", _discovery_aws.HAS_BOTO3, _discovery_aws.BOTO3_IMPORT_ERROR),
    "azure-boot-diagnostics": (
        "azure-identity and azure-mgmt-compute",
        _discovery_azure.HAS_AZURE,
        _discovery_azure.AZURE_IMPORT_ERROR,
    ),
    _discovery_openstack.CONSOLE_SOURCE: (
        "openstacksdk",
        _discovery_openstack.HAS_OPENSTACK,
        _discovery_openstack.OPENSTACK_IMPORT_ERROR,
    ),
}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            serial_console=dict(type="path"),
            cloud_log=dict(type="path"),
            text=dict(type="str"),
            boot_log=dict(type="dict"),
            cloud_logging=dict(type="bool", default=True),
            timeout=dict(type="float", default=30),
        ),
        required_one_of=[("serial_console", "cloud_log", "text", "boot_log")],
        supports_check_mode=True,
    )
    library, available, error = CONSOLE_LIBRARIES.get((module.params["boot_log"] or {}).get("source"), ("", True, None))
    if not available:
        module.fail_json(msg=missing_required_lib(library), exception=str(error))
    run(module)


if __name__ == "__main__":
    main()
