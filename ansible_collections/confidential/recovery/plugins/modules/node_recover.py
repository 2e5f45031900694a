#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: node_recover
short_description: Push the recovery key to a waiting Constellation control-plane node
version_added: 0.1.0
description:
  - Opens attested TLS to a node's recovery server, validates its attestation, and only then sends
    what the node's generation of the recovery RPC needs, derived from the cluster's master secret.
  - V(unary) (Constellation v2.5+) sends the KMS URI; V(stream) (v2.0-v2.4) sends the measurement secret,
    reads the node's disk UUID and sends the disk key for it; V(keyservice) (pre-v2.0) sends the disk key
    for O(disk_uuid). V(auto) tries V(unary) and falls back as the node's answer tells.
  - A node whose recovery port refuses connections is not waiting; the module then reports C(ok). That is also
    what a node still booting or a wrong port looks like. To recover a control plane, use
    M(confidential.recovery.quorum_recover), which asks the Kubernetes API whether etcd has quorum.
  - With O(mode=load_balancer), pushes through the cluster endpoint one node per connection, as
    C(constellation recover) does, until no node waits or O(max_pushes) keys are pushed. Given Kubernetes API
    credentials (O(kubeconfig) or O(host)), it stops as soon as the API reports etcd quorum (with O(max_pushes))
    or every node Ready (without), instead of pushing until the deadline while the load balancer still routes
    to nodes that no longer wait.
  - In check mode the module connects and attests, sends nothing, and reports what it would push.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attestation
  - confidential.recovery.attestation.constellation
  - confidential.recovery.attestation.collateral_download
  - confidential.recovery.constellation_secret
  - confidential.recovery.k8s_auth
options:
  endpoint:
    description: Address of the node (O(mode=direct)) or of the cluster endpoint (O(mode=load_balancer)).
    type: str
    required: true
  port:
    description: Recovery port. Defaults to 9999, or 9000 for O(protocol=keyservice) (use 9000 for v2.0.0 nodes).
    type: int
  mode:
    description: Push to one node (V(direct)) or through the load balancer (V(load_balancer)).
    type: str
    choices: [direct, load_balancer]
    default: direct
  protocol:
    description: Generation of the recovery RPC.
    type: str
    choices: [auto, unary, stream, keyservice]
    default: auto
  disk_uuid:
    description: The node's state-disk UUID. Required by the pre-v2.0 key service; see M(confidential.recovery.disk_uuid_lookup).
    type: str
  interval:
    description: Seconds between retries through the load balancer (upstream uses 5, 20 on Azure).
    type: float
    default: 5
  max_pushes:
    description: With O(mode=load_balancer), stop after this many keys (for example floor(n/2)+1 for quorum).
    type: int
  deadline:
    description: With O(mode=load_balancer), give up after this many seconds.
    type: float
    default: 600
requirements:
  - cryptography
  - h2
  - protobuf
notes:
  - The master secret and everything derived from it are never returned or logged.
attributes:
  check_mode:
    support: full
    details: Attests the node, then reports what it would push; sends no key.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.quorum_recover
  - module: confidential.recovery.recovery_status_info
  - module: confidential.recovery.disk_uuid_lookup
"""

EXAMPLES = r"""
- name: Push the recovery key to one node (v2.5+ cluster)
  confidential.recovery.node_recover:
    endpoint: 10.9.0.5
    master_secret_file: "{{ workspace }}/constellation-mastersecret.json"
    cluster_id: "{{ state.clusterValues.clusterID }}"
    measurement_salt: "{{ state.clusterValues.measurementSalt }}"
    attestation: aws-sev-snp
    attestation_config: "{{ workspace }}/constellation-conf.yaml"

- name: Recover through the load balancer until quorum (3 of 5)
  confidential.recovery.node_recover:
    mode: load_balancer
    endpoint: "{{ state.infrastructure.clusterEndpoint }}"
    master_secret: "{{ vaulted_master_secret }}"
    attestation: gcp-sev-snp
    attestation_config: "{{ workspace }}/constellation-conf.yaml"
    # each node's vTPM key as Compute Engine reports it: gce/<project>/<zone>/<instance>.pem
    attestation_collateral_dir: "{{ workspace }}/collateral"
    max_pushes: 3

- name: Pre-v2.0 node with the disk UUID from its boot log
  confidential.recovery.node_recover:
    endpoint: 10.9.0.6
    protocol: keyservice
    disk_uuid: "{{ lookup_result.disk_uuid }}"
    master_secret_file: constellation-mastersecret.json
    attestation: lab
"""

RETURN = r"""
assurance:
  description:
    - What this run's configuration does not prove, one entry per condition; each was also a warning. C(condition) is
      V(no_hardware_root) (qemu-vtpm and aws-nitro-tpm, whose attestation key comes from the node's own document),
      V(measurements_warn_only) (every reference measurement warnOnly), V(id_key_digests_warn_only) (azure-sev-snp
      with enforcementPolicy WarnOnly), V(kube_api_unverified) (the Kubernetes API's certificate is not checked) or
      V(lab_attestation).
  returned: success
  type: list
  elements: dict
  sample: [{"condition": "no_hardware_root", "message": "attestation qemu-vtpm (attestation: qemu-vtpm) has no hardware root of trust: ..."}]
status:
  description: V(pushed), V(would_push) (check mode) or V(not_waiting). Through the load balancer, V(pushed) or V(not_waiting).
  returned: success
  type: str
  sample: pushed
protocol:
  description: The RPC generation used (or that would be used).
  returned: success
  type: str
  sample: unary
disk_uuid:
  description: The node's disk UUID when known (given, or announced by a v2.0-v2.4 node).
  returned: when known
  type: str
  sample: 2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e
elapsed:
  description: Seconds the push took, including attestation.
  returned: success
  type: float
  sample: 0.21
started_at:
  description: When the load-balancer loop began, in seconds since the epoch (for timelines).
  returned: O(mode=load_balancer), not in check mode
  type: float
  sample: 1796440006.5
pushed:
  description: Number of keys pushed through the load balancer (also when the run failed part-way).
  returned: O(mode=load_balancer)
  type: int
  sample: 3
would_push:
  description: In check mode, where a key would have been sent.
  returned: check mode
  type: dict
  sample: {"endpoint": "10.9.0.5:9999", "protocol": "auto"}
  contains:
    endpoint:
      description: The node's recovery endpoint.
      type: str
    protocol:
      description: The O(protocol) the push would use.
      type: str
endpoint:
  description: The endpoint the module connected to.
  returned: always
  type: str
  sample: 10.9.0.5:9999
disk_uuids:
  description: With O(mode=load_balancer), the disk UUIDs the nodes announced (stream protocol only).
  returned: O(mode=load_balancer)
  type: list
  elements: str
  sample: []
attempts:
  description: With O(mode=load_balancer), connections made through the load balancer.
  returned: O(mode=load_balancer)
  type: int
  sample: 5
progress:
  description: With O(mode=load_balancer), what each attempt saw.
  returned: O(mode=load_balancer)
  type: list
  elements: str
  sample: ["pushed to a node (unary)", "no node waits: quorum reached (Kubernetes API)"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._node_recover import run
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._module import (
    PUSHING,
    master_secret,
    require_libraries,
    validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import module_arguments


def main():
    module = AnsibleModule(
        **module_arguments(
            *PUSHING,
            K8S_AUTH,
            endpoint=dict(type="str", required=True),
            port=dict(type="int"),
            mode=dict(type="str", choices=["direct", "load_balancer"], default="direct"),
            protocol=dict(type="str", choices=["auto", "unary", "stream", "keyservice"], default="auto"),
            disk_uuid=dict(type="str"),
            interval=dict(type="float", default=5),
            max_pushes=dict(type="int"),
            deadline=dict(type="float", default=600),
        ),
        supports_check_mode=True,
    )
    require_libraries(module)
    run(module, validator(module), master_secret(module))


if __name__ == "__main__":
    main()
