# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  master_secret_file:
    description:
      - 'Path on the controller of C(constellation-mastersecret.json), a JSON object with base64 C(key) and C(salt).'
      - Its content is never printed. Mutually exclusive with O(master_secret).
    type: path
  master_secret:
    description:
      - The content of C(constellation-mastersecret.json), for example from Ansible Vault or an AWX credential,
        as a JSON string or as a dictionary with C(key) and C(salt).
      - Mutually exclusive with O(master_secret_file).
    type: raw
  cluster_id:
    description:
      - C(clusterValues.clusterID) (hex) of C(constellation-state.yaml). With O(measurement_salt), the master
        secret is checked against it before anything is sent, so a wrong secret fails without touching a node.
    type: str
  measurement_salt:
    description: C(clusterValues.measurementSalt) (hex) of C(constellation-state.yaml).
    type: str
"""
