#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: quorum_recover
short_description: Push recovery keys to Constellation control-plane nodes in rounds until etcd quorum returns
version_added: 0.2.0
description:
  - Works from what the cluster says. Each round asks the Kubernetes API (C(/readyz/etcd)) whether etcd has
    quorum and probes every control-plane node's recovery server over aTLS, sending nothing.
  - A node that answers and passes attestation waits for a key. A node that got its key from this run and does
    not wait again holds a key. Every other node (still booting, refusing, unreachable, failing attestation)
    counts as down, never as up.
  - Without quorum, a round pushes, in parallel, to as many waiting nodes as quorum (floor(n/2)+1) still needs
    beyond the nodes holding a key (O(stop_at=quorum) and O(stop_at=quorum_then_all)), or to every waiting node
    (O(stop_at=all)). With O(stop_at=quorum_then_all), the round that first sees quorum pushes to every node still
    waiting.
  - A probe that finds a node waiting keeps its attested connection, and the push to that node goes over it (one
    handshake per pushed node, and the key reaches the server that was just attested).
  - Rounds repeat every O(poll_interval) until quorum returns or O(wait_timeout) passes, so a node that comes up
    late, or reboots after its push, gets its key in a later round. Every probe, push and API call is cut to the
    time left, so the module ends on time.
  - In check mode the module probes once, attests, sends nothing, and returns where it would push.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.progress
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attestation
  - confidential.recovery.attestation.constellation
  - confidential.recovery.attestation.collateral_download
  - confidential.recovery.constellation_secret
  - confidential.recovery.k8s_auth
options:
  nodes:
    description: Every control-plane node of the cluster (all of them, so that the quorum count is right).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Node name, as the Kubernetes API knows it.
        type: str
        required: true
      address:
        description: Address of the node's recovery server (IPv4, IPv6 or a DNS name).
        type: str
        required: true
      disk_uuid:
        description: The node's state-disk UUID; only the pre-v2.0 key service needs it.
        type: str
  port:
    description: Recovery port, 1-65535. Defaults to 9999, or 9000 for O(protocol=keyservice).
    type: int
  protocol:
    description: Generation of the recovery RPC. V(auto) tries V(unary) and falls back as the node's answer tells.
    type: str
    choices: [auto, unary, stream, keyservice]
    default: auto
  stop_at:
    description:
      - V(quorum) pushes only as many keys as quorum needs; the other nodes rejoin by themselves.
      - V(all) pushes to every waiting node, round after round, until none waits and quorum is back. As the Kubernetes
        API's answer changes none of these targets, a round's keys go out as soon as its probes have attested the
        nodes, without waiting for that answer; the other choices wait for it. Credentials that cannot be loaded
        (O(kubeconfig)) still fail the run, and the result says how many keys went out before.
      - V(quorum_then_all) pushes only as many keys as quorum needs, then, once quorum is back, to every node still
        waiting, until none waits.
    type: str
    choices: [quorum, all, quorum_then_all]
    default: quorum
  wait_timeout:
    description: Seconds the whole loop may take, including its last calls.
    type: float
    default: 300
  poll_interval:
    description: Seconds between rounds.
    type: float
    default: 0.5
  reach_timeout:
    description:
      - When set, the first round also decides whether this controller reaches the nodes at all. Its probes connect
        with at most this many seconds; when no node accepts the connection and etcd has no quorum, the module ends
        without pushing, returns RV(reach.reachable) false, and does not fail, so that the caller can go through the
        load balancer instead.
    type: float
  quorum_grace:
    description:
      - With O(stop_at=quorum), seconds to wait for quorum after enough nodes hold a key.
      - When quorum is still missing then (a node took its key but its etcd did not come up), every other
        waiting node gets a key too, and RV(topped_up) says so.
    type: float
    default: 60
requirements:
  - cryptography
  - h2
  - protobuf
  - kubernetes
notes:
  - The master secret and everything derived from it are never returned or logged.
  - Run it once per cluster (C(run_once)), from a host that reaches the nodes and the Kubernetes API.
  - Once a round's keys are out, the rest of the run (importing the Kubernetes client, asking the API, later rounds)
    continues at a lower CPU priority (niceness 10), so that on a busy controller it gives way to work that still has
    keys to send, such as the other clusters' leaders of a fleet.
attributes:
  check_mode:
    support: full
    details: Probes and attests every node, then reports where it would push; sends no key.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.node_recover
  - module: confidential.recovery.recovery_status_info
"""

EXAMPLES = r"""
- name: Bring etcd quorum back with the fewest keys
  confidential.recovery.quorum_recover:
    nodes:
      - {name: mycluster-control-plane-0, address: 10.9.0.5}
      - {name: mycluster-control-plane-1, address: 10.9.0.6}
      - {name: mycluster-control-plane-2, address: 10.9.0.7}
    kubeconfig: constellation-admin.conf
    master_secret_file: constellation-mastersecret.json
    cluster_id: "{{ state.clusterValues.clusterID }}"
    measurement_salt: "{{ state.clusterValues.measurementSalt }}"
    attestation: azure-sev-snp
    attestation_config: constellation-conf.yaml
    wait_timeout: 600
"""

RETURN = r"""
assurance:
  description:
    - What this run's configuration does not prove, one entry per condition; each was also a warning. C(condition) is
      V(no_hardware_root) (qemu-vtpm and aws-nitro-tpm, whose attestation key comes from the node's own document),
      V(measurements_warn_only) (every reference measurement warnOnly), V(id_key_digests_warn_only) (azure-sev-snp
      with enforcementPolicy WarnOnly), V(kube_api_unverified) (the Kubernetes API's certificate is not checked) or
      V(lab_attestation).
  returned: always
  type: list
  elements: dict
  sample: [{"condition": "no_hardware_root", "message": "attestation qemu-vtpm (attestation: qemu-vtpm) has no hardware root of trust: ..."}]
quorum:
  description: Whether etcd quorum was back when the module returned.
  returned: always
  type: bool
  sample: true
etcd_readyz:
  description: What C(/readyz/etcd) answered last, or why the API could not be asked.
  returned: always
  type: str
  sample: ok
keys_pushed:
  description: Keys this run pushed (a node that rebooted after its push and got a second key counts twice).
  returned: always
  type: int
  sample: 3
topped_up:
  description: True when quorum stayed away after enough keys were out, so the other waiting nodes got a key too.
  returned: always
  type: bool
  sample: false
reach:
  description: What the first round found about this controller's route to the nodes.
  returned: always
  type: dict
  contains:
    answered:
      description: Control-plane nodes that accepted the first round's connection (waiting, or presenting TLS).
      type: int
    total:
      description: Control-plane nodes probed.
      type: int
    reachable:
      description: False when O(reach_timeout) was set, no node answered, and etcd had no quorum; nothing was pushed.
      type: bool
  sample: {"answered": 5, "total": 5, "reachable": true}
rounds:
  description: Rounds the loop ran.
  returned: always
  type: int
  sample: 2
quorum_size:
  description: floor(n/2)+1 for the n nodes given.
  returned: always
  type: int
  sample: 3
seconds_to_quorum:
  description: Seconds from the start until the API first reported quorum; null when it did not.
  returned: always
  type: float
  sample: 1.21
started_at:
  description: When the loop began (seconds since the epoch); the nodes' C(timeline) offsets count from it.
  returned: always
  type: float
  sample: 1796438102.091
nodes:
  description: What the loop knows of each node at the end.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
    state:
      description: Last probe, one of V(waiting), V(refused), V(unreachable), V(attestation_failed), V(error).
      type: str
    seen_waiting:
      description: The node waited for a key at some probe of this run.
      type: bool
    holds_key:
      description: This run pushed a key to the node, and it did not wait again afterwards.
      type: bool
    pushes:
      description: Keys this run pushed to the node.
      type: int
    push_seconds:
      description: Seconds of the last successful push, attestation included.
      type: float
    timeline:
      description:
        - Each attestation (a probe that judged the node's evidence) and each push, in order, with C(start) and
          C(end) in seconds since RV(started_at) and C(status) V(ok), V(failed) or V(skipped) (the node had stopped
          waiting). A drill draws these per node.
      type: list
      elements: dict
    error:
      description: The last push or attestation error, if any.
      type: str
    address:
      description: The address given in O(nodes).
      type: str
    detail:
      description: What the last probe saw, in words.
      type: str
    push_failures:
      description: Pushes to the node that failed.
      type: int
    protocol:
      description: Generation of the recovery RPC the last successful push used.
      type: str
    disk_uuid:
      description: The node's disk UUID, as given or as the node announced it.
      type: str
  sample:
    - {name: mycluster-control-plane-0, address: 10.9.0.5, state: refused, seen_waiting: true, holds_key: true, pushes: 1,
       push_failures: 0, push_seconds: 0.015, protocol: unary, disk_uuid: null, error: null,
       detail: "10.9.0.5:9999 refuses connections"}
would_push:
  description: In check mode, the nodes that would get a key now.
  returned: check mode
  type: list
  elements: str
  sample: [mycluster-control-plane-0, mycluster-control-plane-1, mycluster-control-plane-2]
progress:
  description: Timestamped lines, one per round that changed something.
  returned: always
  type: list
  elements: str
  sample: ["[    0.0s] round 1: no etcd quorum; 5 waiting; pushing to 3", "[    1.2s] etcd quorum is back"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._quorum_recover import ARGUMENTS, execute


def main():
    execute(AnsibleModule(**ARGUMENTS, supports_check_mode=True))


if __name__ == "__main__":
    main()
