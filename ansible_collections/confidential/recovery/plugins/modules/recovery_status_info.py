#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_status_info
short_description: Is a Constellation node waiting for its key, and is etcd quorum back?
version_added: 0.1.0
description:
  - With O(check=node), connects to the node's recovery server, validates its attestation and hangs up
    without sending anything. A refused connection means the node is not waiting.
  - With O(check=cluster), asks the Kubernetes API with the admin kubeconfig, as a user would on a real
    cluster where etcd is not reachable from outside. C(/readyz/etcd) answering C(ok) means etcd has quorum;
    the nodes' C(Ready) condition shows which nodes are back.
  - With O(wait_for), keeps asking until the condition holds or O(wait_timeout) passes. Every call is cut to
    the time left, so the wait ends on time even when the API stalls. The module then fails with what it saw last.
  - Never changes anything.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.progress
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attributes.read_only
  - confidential.recovery.attestation
  - confidential.recovery.attestation.constellation
  - confidential.recovery.k8s_auth
options:
  check:
    description: What to probe.
    type: str
    choices: [node, cluster]
    required: true
  endpoint:
    description: Node address, for O(check=node).
    type: str
  port:
    description: Recovery port, for O(check=node). Defaults to 9999, or 9000 for O(protocol=keyservice).
    type: int
  protocol:
    description: Generation of the recovery RPC; only chooses the default port.
    type: str
    choices: [auto, unary, stream, keyservice]
    default: auto
  wait_for:
    description:
      - With O(check=cluster), wait until V(quorum) (C(/readyz/etcd) is C(ok)) or V(all_ready)
        (quorum, and every node C(Ready)). Unset means look once.
    type: str
    choices: [quorum, all_ready]
  wait_timeout:
    description: Seconds the whole wait may take, including the last call.
    type: float
    default: 300
  poll_interval:
    description: Seconds between looks while waiting.
    type: float
    default: 0.5
  attestation:
    required: false
requirements:
  - cryptography
  - h2
  - kubernetes
seealso:
  - module: confidential.recovery.quorum_recover
  - module: confidential.recovery.node_recover
"""

EXAMPLES = r"""
- name: Is this node waiting for a key?
  confidential.recovery.recovery_status_info:
    check: node
    endpoint: 10.9.0.5
    attestation: aws-sev-snp
    attestation_config: constellation-conf.yaml
  register: probe

- name: Wait, at most 10 minutes, until every node is Ready
  confidential.recovery.recovery_status_info:
    check: cluster
    kubeconfig: constellation-admin.conf
    wait_for: all_ready
    wait_timeout: 600
  register: health
"""

RETURN = r"""
assurance:
  description:
    - What this run's configuration does not prove, one entry per condition; each was also a warning. C(condition) is
      V(no_hardware_root) (qemu-vtpm and aws-nitro-tpm, whose attestation key comes from the node's own document),
      V(measurements_warn_only) (every reference measurement warnOnly), V(id_key_digests_warn_only) (azure-sev-snp
      with enforcementPolicy WarnOnly), V(kube_api_unverified) (the Kubernetes API's certificate is not checked) or
      V(lab_attestation).
  returned: O(check=cluster)
  type: list
  elements: dict
  sample: [{"condition": "no_hardware_root", "message": "attestation qemu-vtpm (attestation: qemu-vtpm) has no hardware root of trust: ..."}]
waiting:
  description: The node's recovery server is up and passed attestation.
  returned: O(check=node)
  type: bool
  sample: true
quorum:
  description: C(/readyz/etcd) answered C(ok).
  returned: O(check=cluster)
  type: bool
  sample: true
etcd_readyz:
  description: The body or error of C(/readyz/etcd).
  returned: O(check=cluster)
  type: str
  sample: ok
ready_nodes:
  description: Names of the nodes whose C(Ready) condition is C(True).
  returned: O(check=cluster)
  type: list
  elements: str
  sample: [mycluster-control-plane-0, mycluster-control-plane-1, mycluster-worker-0]
not_ready_nodes:
  description: Names of the other nodes.
  returned: O(check=cluster)
  type: list
  elements: str
  sample: [mycluster-control-plane-2]
control_plane_ready:
  description: Ready control-plane nodes.
  returned: O(check=cluster)
  type: int
  sample: 2
control_plane_total:
  description: All control-plane nodes the API knows.
  returned: O(check=cluster)
  type: int
  sample: 3
api_reachable:
  description: Whether the Kubernetes API answered at all.
  returned: O(check=cluster)
  type: bool
  sample: true
waited:
  description: Seconds the wait took.
  returned: O(wait_for) is set
  type: float
  sample: 29.4
reached_at:
  description: When the wait saw O(wait_for) met, in seconds since the epoch (for timelines).
  returned: O(wait_for) is set and met
  type: float
  sample: 1796440007.7
progress:
  description: Timestamped lines of what the wait saw.
  returned: O(wait_for) is set
  type: list
  elements: str
  sample: ["[    0.1s] etcd quorum; control plane 3/5 Ready", "[   29.4s] etcd quorum; control plane 5/5 Ready"]
endpoint:
  description: The node's recovery endpoint that was probed.
  returned: O(check=node)
  type: str
  sample: 10.9.0.5:9999
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._recovery_status_info import (
    ARGUMENTS,
    execute,
)


def main():
    execute(AnsibleModule(**ARGUMENTS, supports_check_mode=True))


if __name__ == "__main__":
    main()
