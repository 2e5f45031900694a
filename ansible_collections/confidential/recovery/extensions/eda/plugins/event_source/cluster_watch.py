# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Event source confidential.recovery.cluster_watch: the loop lives in plugins/plugin_utils/_watch/."""

from __future__ import annotations

import sys
from pathlib import Path

DOCUMENTATION = r"""
---
short_description: Watch confidential clusters and say when one needs a recovery.
description:
  - An event source for ansible-rulebook. It reads the clusters from the same inventory the recovery playbook uses
    (C(ansible-inventory --list) of O(inventory)), and looks at each cluster every O(interval) seconds, give or take
    O(jitter).
  - A look asks the Kubernetes API (C(/readyz/etcd) and the nodes' Ready condition, with the cluster's admin
    kubeconfig), probes every control-plane node's recovery endpoint with an attested TLS handshake that is dropped
    before any application byte, and, where the variables name a Contrast Coordinator, asks it GetManifests.
  - It emits an event when a cluster's condition changes, and again every O(repeat_after) seconds while it stays
    unhealthy. Each event is C({confidential_recovery: {type, cluster, condition, why, since, observed_at, repeated,
    facts}}), type one of C(quorum_lost), C(nodes_waiting), C(coordinator_waiting), C(recovered).
  - It holds no secret and puts none in an event; it never sends a recovery call.
  - The cluster variables are the playbook's (C(constellation_recover_attestation), C(constellation_recover_kubeconfig),
    C(contrast_recover_coordinator), ...), for example in C(group_vars/all.yml) beside the inventory file. A cluster
    without C(constellation_recover_attestation), or with reference values that cannot be read, stops the source at
    its start.
options:
  inventory:
    description: The inventory source, or a list of them, as given to ansible-playbook with C(-i).
    type: list
    elements: str
    required: true
  interval:
    description: Seconds between two looks at a cluster (0.5 to 3600).
    type: float
    default: 10
  jitter:
    description: How much each pause varies, as a fraction of it (0 to 0.9), so that several watchers do not ask at once.
    type: float
    default: 0.2
  timeout:
    description: Seconds each call of a look may take.
    type: float
    default: 5
  max_backoff:
    description: >-
      The longest pause, in seconds. The pause doubles for every look in a row in which the Kubernetes API refused
      this client (HTTP 401, 403 or 429).
    type: float
    default: 300
  repeat_after:
    description: Seconds after which an unhealthy cluster's event is sent again.
    type: float
    default: 300
  inventory_timeout:
    description: Seconds C(ansible-inventory) may take.
    type: float
    default: 120
  watch_contrast:
    description: Watch the Coordinator. By default, where C(contrast_recover_coordinator) is set.
    type: bool
  max_looks:
    description: Stop after this many looks at each cluster (0, the default, watches until the rulebook stops).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Recover confidential clusters without a human
  hosts: all
  sources:
    - name: Watch the clusters of the inventory
      confidential.recovery.cluster_watch:
        inventory: /etc/recovery/inventory
        interval: 10
  rules:
    - name: Say what happened
      condition: event.confidential_recovery is defined
      action:
        print_event:
          pretty: true
"""


def _collections_root() -> str:
    """The directory that holds ansible_collections/, found from this file, where ansible-rulebook found it."""
    return str(Path(__file__).resolve().parents[7])


async def main(queue, args):
    try:
        from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._source import run_watch
    except ImportError:
        sys.path.insert(0, _collections_root())
        from ansible_collections.confidential.recovery.plugins.plugin_utils._watch._source import run_watch
    await run_watch(queue, args)
