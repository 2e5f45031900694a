# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Which clusters the watch finds in ansible-inventory's answer, and what it refuses."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._clusters import (
    InventoryError,
    clusters_from_inventory,
)

INVENTORY = {
    "_meta": {
        "hostvars": {
            "cp-1": {
                "ansible_host": "127.0.0.11",
                "constellation_workspace": "/ws",
                "constellation_recover_attestation": "lab",
            },
            "cp-0": {
                "ansible_host": "127.0.0.10",
                "constellation_workspace": "/ws",
                "constellation_recover_attestation": "qemu-vtpm",
                "contrast_recover_coordinator": "127.0.0.4:1313",
                "contrast_recover_attestation": "lab",
                "contrast_recover_workspace_dir": "/ws/contrast",
            },
            "worker-0": {"ansible_host": "127.0.0.20"},
        }
    },
    "all": {"children": ["ungrouped", "constellation"]},
    "constellation": {"children": ["constellation_control_plane", "constellation_worker"]},
    "constellation_control_plane": {"hosts": ["cp-1", "cp-0"]},
    "constellation_worker": {"hosts": ["worker-0"]},
}


def test_a_cluster_from_its_leaders_variables():
    (cluster,) = clusters_from_inventory(json.dumps(INVENTORY))
    assert cluster.name == "constellation"
    assert [(n.name, n.address) for n in cluster.nodes] == [("cp-0", "127.0.0.10"), ("cp-1", "127.0.0.11")]
    assert cluster.attestation == {"attestation": "qemu-vtpm", "attestation_config": "/ws/constellation-conf.yaml"}
    assert cluster.kubeconfig == "/ws/constellation-admin.conf"
    assert cluster.coordinator["coordinator"] == "127.0.0.4:1313"


def test_the_coordinator_is_watched_only_where_it_is_named_or_asked_for():
    assert clusters_from_inventory(json.dumps(INVENTORY), watch_contrast=False)[0].coordinator is None
    plain = copy.deepcopy(INVENTORY)
    del plain["_meta"]["hostvars"]["cp-0"]["contrast_recover_coordinator"]
    assert clusters_from_inventory(json.dumps(plain))[0].coordinator is None
    with pytest.raises(InventoryError, match="contrast_recover_coordinator"):
        clusters_from_inventory(json.dumps(plain), watch_contrast=True)


def test_a_fleet_is_one_cluster_per_group():
    fleet = copy.deepcopy(INVENTORY)
    fleet["_meta"]["hostvars"]["cp-1"]["constellation_cluster_group"] = "blue"
    names = [c.name for c in clusters_from_inventory(json.dumps(fleet))]
    assert names == ["blue", "constellation"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda inv: inv["_meta"]["hostvars"]["cp-0"].pop("constellation_recover_attestation"), "does not guess"),
        (lambda inv: inv["_meta"]["hostvars"]["cp-0"].update(constellation_recover_kubeconfig="{{ x }}/k"), "template"),
        (lambda inv: inv["_meta"]["hostvars"]["cp-0"].update(ansible_host="no such host!"), "ansible_host"),
        (lambda inv: inv.pop("constellation_control_plane"), "no host in group constellation_control_plane"),
        (lambda inv: inv["_meta"]["hostvars"]["cp-0"].update(constellation_recover_port="https"), "port"),
    ],
)
def test_what_the_watch_refuses_to_guess(change, message):
    broken = copy.deepcopy(INVENTORY)
    change(broken)
    with pytest.raises(InventoryError, match=message):
        clusters_from_inventory(json.dumps(broken))


@pytest.mark.parametrize("text", ["", "[]", "null", "{", '{"_meta": 1, "constellation_control_plane": {"hosts": 1}}'])
def test_not_an_inventory(text):
    with pytest.raises(InventoryError):
        clusters_from_inventory(text)


def test_strings_that_ansible_inventory_marks_unsafe_are_plain_strings():
    marked = copy.deepcopy(INVENTORY)
    marked["_meta"]["hostvars"]["cp-0"]["ansible_host"] = {"__ansible_unsafe": "127.0.0.10"}
    marked["constellation_control_plane"]["hosts"] = [{"__ansible_unsafe": "cp-0"}, "cp-1"]
    (cluster,) = clusters_from_inventory(json.dumps(marked))
    assert [n.address for n in cluster.nodes] == ["127.0.0.10", "127.0.0.11"]
