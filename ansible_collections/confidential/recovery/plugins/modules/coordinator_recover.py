#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: coordinator_recover
short_description: Recover a Contrast Coordinator from the seed-share owner's workspace
version_added: 0.1.0
description:
  - Probes the Coordinator's user API over attested TLS. A Coordinator in recovery mode gets the seed,
    decrypted from C(seed-shares.json) with C(seedshare-owner.pem), over aTLS with a client certificate on
    the seedshare owner key, after its attestation validated. A ready Coordinator is left alone (C(ok)).
  - Then checks that the manifest it serves is the workspace C(manifest.json), and writes the served root CA,
    mesh CA, manifest history and latest transition into O(verify_dir) atomically, as C(contrast verify) does.
  - Tries the current API path first and falls back to the older one only when the server answers UNIMPLEMENTED.
    A refused recovery is never retried.
  - In check mode it sends nothing. It probes and attests the Coordinator, decrypts the seed share locally and checks
    that the manifest's C(SeedshareOwnerPubKeys) lists the owner key. A Coordinator that is not in recovery mode
    must also serve the workspace C(manifest.json), so a rehearsal on a healthy deployment fails on what a
    recovery would fail on.
  - With several Coordinators (Contrast v1.9 and later can run the Coordinator's StatefulSet with replicas, see
    O(replicas)), it lists their pods through the Kubernetes API and attests each one. A restarted Coordinator recovers
    from a ready peer by itself, so the seed goes to at most one, and only when no Coordinator with verified evidence
    holds the state, to the lowest-numbered one in recovery mode. Then it waits up to O(peer_wait_timeout) for the
    others to recover from their peers, checks that all serve the workspace's manifest and one mesh CA, and reports
    each one in RV(coordinators).
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attestation
  - confidential.recovery.k8s_auth
options:
  attestation:
    description:
      - Attestation variant the Coordinator must prove over aTLS before the seed is sent.
      - V(snp) verifies its SEV-SNP report against the manifest's C(ReferenceValues.snp) (AMD chain and CRL,
        measurement, guest policy, minimum TCB, ID-key digest, platform features, chip IDs), REPORT_DATA bound to the
        connection and HOST_DATA equal to the Coordinator's policy hash. This is the variant of Contrast on AKS
        (Azure's confidential containers) and on bare metal with AMD SEV-SNP.
      - V(tdx) verifies its TDX quote against C(ReferenceValues.tdx), with Intel's collateral from
        O(attestation_collateral_dir), and MRCONFIGID equal to the Coordinator's policy hash.
      - An entry without a value upstream Contrast requires (SNP C(ProductName), C(TrustedMeasurement),
        C(MinimumTCB); TDX C(MrTd), C(MrSeam), C(Xfam), C(Rtmrs)) is refused by name.
      - V(lab) accepts the lab twin's C(insecure) attestation. It proves nothing about the hardware; the module warns
        on every use.
      - The Constellation variant names (such as V(azure-sev-snp)) are not Contrast platforms and are refused here.
    type: str
    required: true
    choices: [lab, snp, tdx]
  attestation_collateral_dir:
    description:
      - A directory of evidence saved beforehand. For O(attestation=tdx), C(pcs/tdx/<FMSPC>.json) holds Intel's
        collateral for the Coordinator's platform (TCB info, QE identity, CRLs and their issuer chains, in the form
        dcap-qvl reads).
      - For O(attestation=snp), a VCEK or CRL the evidence did not bring is read from C(kds/vcek/v1/<product>/...),
        the paths of AMD's Key Distribution Service.
    type: path
  attestation_collateral_download:
    description:
      - Fetch collateral missing from O(attestation_collateral_dir), and keep it there. For O(attestation=snp), the
        chip's VCEK and AMD's CRL from AMD's Key Distribution Service; for O(attestation=tdx), Intel's collateral for
        the platform from O(attestation_pccs_url).
      - Off by default; the module then only reads the directory.
    type: bool
    default: false
  attestation_pccs_url:
    description:
      - Intel's Provisioning Certification Service, or a caching service of its API v4 (a PCCS, such as the one of
        your cloud), for O(attestation_collateral_download) with O(attestation=tdx).
    type: str
    default: https://api.trustedservices.intel.com
  attestation_kds_url:
    description: AMD's Key Distribution Service, or a mirror of it, for O(attestation_collateral_download).
    type: str
    default: https://kdsintf.amd.com
  attestation_trust_anchor:
    description:
      - A PEM root certificate to trust instead of AMD's pinned ARKs or Intel's root, for a test platform such as the
        lab twin (C(conflab up --attestation snp) writes one). Never needed for a real cluster; every use warns.
    type: path
  coordinator_policy_hash:
    description:
      - The SHA-256 of the Coordinator's policy (64 hex digits), which the Coordinator's SEV-SNP HOST_DATA or TDX
        MRCONFIGID must show. It tells the Coordinator from the deployment's other pod VMs, which run the same launch
        measurement; the seed goes only to a peer that shows it.
      - By default the hashes of the manifest's policies with C(Role) V(coordinator) (Contrast v1.7 and later). The
        manifests of Contrast v1.6 and older name no Coordinator policy, and the CLI brought the hash; give it here
        for such a manifest, as C(contrast set --coordinator-policy-hash) took it. When given, it replaces the
        manifest's.
      - With neither, the module refuses before it connects.
    type: str
  coordinator:
    description:
      - Address of the Coordinator's user API, port 1313 when omitted. C(host), C(host:port), C(1.2.3.4:1313),
        a bare IPv6 address (C(::1)) or a bracketed one with a port (C([::1]:1313)).
      - When omitted (and O(port_forward) too), the module asks the Kubernetes API (the O(kubeconfig) options) for
        the Service O(coordinator_service) in O(coordinator_namespace), as Contrast's recovery guide does, and uses
        its first load-balancer address (IP, else host name) with the Service's port 1313 (or its port named
        C(userapi)). A Service without a load-balancer address means a private cluster; the module then
        port-forwards to the guide's C(port-forwarder-coordinator) pod in that namespace, as O(port_forward) does.
        Without such a Ready pod it stops, naming the three ways to reach the Coordinator.
      - Either way, the peer gets the seed only after its attestation validated.
    type: str
  port_forward:
    description:
      - Reach the Coordinator through a port-forward to a pod, opened through the Kubernetes API (the
        C(pods/portforward) subresource, with the O(kubeconfig) options), instead of an address. For a cluster
        without a public load balancer; no C(kubectl port-forward) needs to run beside the playbook.
      - Kata cannot port-forward into the confidential Coordinator pod itself, so Contrast's recovery guide runs a
        C(port-forwarder-coordinator) pod that relays to the C(coordinator) Service; forward to that pod.
      - TLS and attestation run through the tunnel end to end. The relay sees only ciphertext and cannot pass for
        the Coordinator.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the pod. Default O(coordinator_namespace).
        type: str
      pod:
        description: Name of the pod. Default the first Ready pod of O(port_forward.selector), else C(port-forwarder-coordinator).
        type: str
      selector:
        description: A label selector of the pods to choose from, such as C(app.kubernetes.io/name=port-forwarder-coordinator).
        type: str
      port:
        description: The pod's port that relays to the Coordinator's user API.
        type: int
        default: 1313
  replicas:
    description:
      - How many Coordinators to recover.
      - V(one) recovers the Coordinator of O(coordinator), O(port_forward) or the Service, as before replicas existed.
      - V(all) lists the pods of O(coordinator_selector) in O(coordinator_namespace) through the Kubernetes API and
        recovers them as a set (see the description); O(coordinator) is then not used.
      - V(auto) does what V(all) does when the Kubernetes API is named (O(kubeconfig) or O(host)), O(port_forward) is
        not given, and the API lists more than one Coordinator pod; otherwise what V(one) does. A load balancer in
        front of several Coordinators reaches any one of them, so an address alone cannot tell whether a peer still
        holds the state. When the pods cannot be listed and O(coordinator) is given, it warns and uses the address.
    type: str
    choices: [auto, one, all]
    default: auto
  coordinator_selector:
    description: The label selector of the Coordinator pods, for O(replicas).
    type: str
    default: app.kubernetes.io/name=coordinator
  coordinator_reach:
    description:
      - How each Coordinator pod of a set is reached. V(port_forward) opens a port-forward to the pod's port 1313
        through the Kubernetes API, which works from outside the cluster. V(pod_ip) dials the pod IP, for a
        controller that runs inside the cluster's pod network (an AWX execution node in the cluster).
      - TLS and attestation run end to end either way.
    type: str
    choices: [port_forward, pod_ip]
    default: port_forward
  peer_wait_timeout:
    description:
      - Seconds to wait, with several Coordinators, for those in recovery mode to recover from a ready peer (upstream's
        Coordinators ask their peers every 15 s). A Coordinator still waiting then fails the task, named in
        RV(coordinators) with the reason.
    type: int
    default: 60
  coordinator_namespace:
    description: Namespace of the Coordinator's Service (when O(coordinator) is omitted) and pods (O(replicas)).
    type: str
    default: default
  coordinator_service:
    description: Name of the Coordinator's Service, when O(coordinator) is omitted.
    type: str
    default: coordinator
  workspace_dir:
    description: The seed-share owner's workspace (defaults of the other paths are inside it).
    type: path
    default: .
  manifest:
    description: The manifest the Coordinator must serve. Default C(<workspace_dir>/manifest.json).
    type: path
  seed_shares:
    description: C(seed-shares.json). Default C(<workspace_dir>/seed-shares.json).
    type: path
  seedshare_owner_key:
    description: The seedshare owner's PKCS#1 RSA key. Default C(<workspace_dir>/seedshare-owner.pem). Never printed.
    type: path
  verify_dir:
    description: Where to write the verified outputs. Default C(<workspace_dir>/verify).
    type: path
  record_mesh_ca:
    description:
      - Write the served mesh CA to C(<verify_dir>/mesh-ca.pem), the baseline against which the next run decides
        whether the mesh CA changed.
      - Set it to V(false) until the mesh workloads have been restarted, so that a failed restart is repeated
        by the next run instead of being forgotten.
    type: bool
    default: true
  force:
    description: Skip the Coordinator's ready-peer check. Upstream warns that this can leave inconsistent mesh CAs.
    type: bool
    default: false
requirements:
  - cryptography
  - h2
  - protobuf
  - kubernetes (only to find the Coordinator through its Service or its pods)
notes:
  - The decrypted seed, the salt and the owner key never appear in results or logs.
attributes:
  check_mode:
    support: full
    details: Probes and attests the Coordinator and decrypts the seed share locally; sends nothing.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.contrast_workloads_restart
"""

EXAMPLES = r"""
- name: Recover the Coordinator of a Contrast deployment on AKS (SEV-SNP) and verify its manifest
  confidential.recovery.coordinator_recover:
    coordinator: "{{ coordinator_ip }}:1313"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: snp
  register: coordinator

- name: The same on bare metal with Intel TDX, with Intel's collateral fetched once and kept
  confidential.recovery.coordinator_recover:
    coordinator: "{{ coordinator_ip }}:1313"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: tdx
    attestation_collateral_dir: "{{ contrast_workspace }}/collateral"
    attestation_collateral_download: true
  register: coordinator

- name: Find the Coordinator through its LoadBalancer Service, as Contrast's recovery guide does
  confidential.recovery.coordinator_recover:
    coordinator_namespace: contrast
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: snp

- name: Reach a private cluster's Coordinator through the guide's forwarder pod, with no kubectl running
  confidential.recovery.coordinator_recover:
    port_forward:
      namespace: contrast
      pod: port-forwarder-coordinator
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: snp

- name: Recover a Coordinator StatefulSet with three replicas (one seed at most; the others recover from a peer)
  confidential.recovery.coordinator_recover:
    replicas: all
    coordinator_namespace: contrast
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: snp
    peer_wait_timeout: 90
  register: coordinators

- name: Rehearse it (check mode attests the Coordinator and decrypts the seed locally; nothing is sent)
  confidential.recovery.coordinator_recover:
    coordinator: "{{ coordinator_ip }}:1313"
    workspace_dir: "{{ contrast_workspace }}"
    attestation: snp
  check_mode: true
"""

RETURN = r"""
status:
  description:
    - V(recovered) (the seed was sent), V(already_recovered), or, with several Coordinators, V(recovered_from_peers)
      (no seed sent; some recovered from a peer).
    - In check mode V(would_recover), or with several Coordinators V(would_wait_for_peers) (some wait and a ready peer
      will recover them).
  returned: always
  type: str
  sample: recovered
mesh_ca_changed:
  description: The served mesh CA key differs from the last saved C(mesh-ca.pem); mesh workloads need a restart.
  returned: success
  type: bool
  sample: true
manifest_verified:
  description: The active served manifest equals the workspace manifest (compared as parsed JSON).
  returned: success, and in check mode when the Coordinator is not in recovery mode
  type: bool
  sample: true
manifest_count:
  description: Number of manifests in the Coordinator's history.
  returned: success
  type: int
  sample: 1
verify_files:
  description: Files written to O(verify_dir).
  returned: success
  type: list
  elements: str
  sample: [/secure/contrast-workspace/verify/coordinator-root-ca.pem, /secure/contrast-workspace/verify/manifest.0.json]
api_path:
  description: The user API path prefix that answered Recover.
  returned: when recovered
  type: str
  sample: /edgelesssys.contrast.userapi.UserAPI/
coordinator:
  description: The Coordinator's address, given or found.
  returned: always
  type: str
  sample: 203.0.113.7:1313
coordinator_found_by:
  description: V(given), which Service's load balancer gave the address, or which pod the port-forward went to.
  returned: success
  type: str
  sample: the load balancer of Service contrast/coordinator
seed_share_checked:
  description: Check mode only. The seed share decrypted and the manifest authorizes the owner key.
  returned: check mode
  type: bool
  sample: true
coordinators:
  description: With several Coordinators, each one, lowest ordinal first.
  returned: when a set of Coordinators was handled
  type: list
  elements: dict
  contains:
    name:
      description: The pod's name.
      type: str
      sample: coordinator-1
    ordinal:
      description: The pod's ordinal in its StatefulSet (the number after the last hyphen), or null for another name.
      type: int
      sample: 1
    first_state:
      description: What the first probe saw, V(ready), V(stale) (recovery mode), V(not_running), V(unverified) or V(error).
      type: str
      sample: stale
    state:
      description: What the last probe saw, in the words of RV(coordinators[].first_state).
      type: str
      sample: ready
    outcome:
      description: V(recovered_by_seed), V(recovered_from_peer), V(ready) (held the state from the start), V(waiting) or V(unverified).
      type: str
      sample: recovered_from_peer
    why:
      description: The outcome in words, with the reason a Coordinator is still waiting.
      type: str
      sample: recovered from a ready peer 14.2 s into the run; no seed was sent to it
    ready_after:
      description: Seconds into the run at which it was first seen ready.
      type: float
      sample: 14.2
    ready_at:
      description: When it was first seen ready, in seconds since the epoch.
      type: float
      sample: 1796520000.5
  sample:
    - {name: coordinator-0, ordinal: 0, first_state: stale, state: ready, outcome: recovered_by_seed, why: received the seed from this run}
seeds_sent:
  description: With several Coordinators, how many received the seed from this run (0 or 1).
  returned: when a set of Coordinators was handled
  type: int
  sample: 1
reason:
  description: With several Coordinators, why the seed went to the one it went to, or to none.
  returned: when a set of Coordinators was handled
  type: str
  sample: coordinator-0 hold(s) the state, so no seed is sent; coordinator-1 will recover from it
would_recover:
  description: Check mode with several Coordinators, the one that would get the seed, or null.
  returned: check mode, when a set of Coordinators was handled
  type: str
  sample: coordinator-0
elapsed:
  description: Seconds taken.
  returned: success
  type: float
  sample: 0.55
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._coordinator_recover import run
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._module import require_libraries
from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _choices
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH
from ansible_collections.confidential.recovery.plugins.module_utils._module._attestation_options import ATTESTATION
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import module_arguments


def main():
    module = AnsibleModule(
        **module_arguments(
            ATTESTATION,
            K8S_AUTH,
            attestation=dict(type="str", required=True, choices=_choices.CONTRAST_ATTESTATION_CHOICES),
            coordinator=dict(type="str"),
            coordinator_namespace=dict(type="str", default="default"),
            port_forward=dict(
                type="dict",
                options=dict(
                    namespace=dict(type="str"),
                    pod=dict(type="str"),
                    selector=dict(type="str"),
                    port=dict(type="int", default=1313),
                ),
            ),
            coordinator_service=dict(type="str", default="coordinator"),
            coordinator_policy_hash=dict(type="str"),
            workspace_dir=dict(type="path", default="."),
            manifest=dict(type="path"),
            seed_shares=dict(type="path"),
            seedshare_owner_key=dict(type="path", no_log=False),
            verify_dir=dict(type="path"),
            attestation_collateral_dir=dict(type="path"),
            attestation_collateral_download=dict(type="bool", default=False),
            attestation_kds_url=dict(type="str", default="https://kdsintf.amd.com"),
            attestation_pccs_url=dict(type="str", default="https://api.trustedservices.intel.com"),
            attestation_trust_anchor=dict(type="path"),
            record_mesh_ca=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
            replicas=dict(type="str", default="auto", choices=["auto", "one", "all"]),
            coordinator_selector=dict(type="str", default="app.kubernetes.io/name=coordinator"),
            coordinator_reach=dict(type="str", default="port_forward", choices=["port_forward", "pod_ip"]),
            peer_wait_timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("coordinator", "port_forward")],
    )
    require_libraries(module, ("cryptography", "h2", "protobuf-userapi"))
    workspace = module.params["workspace_dir"]
    for option, filename in (
        ("manifest", "manifest.json"),
        ("seed_shares", "seed-shares.json"),
        ("seedshare_owner_key", "seedshare-owner.pem"),
        ("verify_dir", "verify"),
    ):
        module.params[option] = module.params[option] or os.path.join(workspace, filename)
    if module.params["attestation"] == _choices.LAB:
        module.warn(_choices.LAB_WARNING)
    run(module)


if __name__ == "__main__":
    main()
