#!/usr/bin/python
# -*- coding: utf-8 -*-
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
  - This release reads the lab's console and cloud-log files or text you pass; the cloud log readers
    (AWS, GCP, Azure) come in a later release.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attributes.read_only
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
seealso:
  - module: confidential.recovery.node_recover
  - module: confidential.recovery.quorum_recover
"""

EXAMPLES = r"""
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._disk_uuid_lookup import run


def main():
    module = AnsibleModule(
        argument_spec=dict(serial_console=dict(type="path"), cloud_log=dict(type="path"), text=dict(type="str")),
        required_one_of=[("serial_console", "cloud_log", "text")],
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
