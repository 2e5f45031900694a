# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The cluster watch reads ansible-inventory's JSON, which carries whatever an inventory source (and, through the
cloud's instance list, a peer) put in it: any content raises InventoryError or gives clusters."""

from __future__ import annotations

from hypothesis import given
from mutations import mutated_json_bytes, only

from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._clusters import (
    InventoryError,
    clusters_from_inventory,
)

SEED = {
    "_meta": {
        "hostvars": {
            "cp-0": {
                "ansible_host": "127.0.0.10",
                "constellation_workspace": "/ws",
                "constellation_recover_attestation": "lab",
                "contrast_recover_coordinator": "127.0.0.4:1313",
                "contrast_recover_attestation": "lab",
                "constellation_cluster_group": "blue",
            },
            "cp-1": {"ansible_host": "127.0.0.11"},
        }
    },
    "all": {"children": ["blue"]},
    "blue": {"children": ["constellation_control_plane"]},
    "constellation_control_plane": {"hosts": ["cp-0", "cp-1"]},
}


@given(mutated_json_bytes(SEED))
def test_ansible_inventory_output(text):
    clusters = only(InventoryError, clusters_from_inventory, text.decode("utf-8", "replace"))
    for cluster in clusters or []:
        assert cluster.nodes and cluster.attestation["attestation"]
