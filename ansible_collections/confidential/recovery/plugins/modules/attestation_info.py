#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: attestation_info
short_description: Verify a node's attestation evidence, live or saved, and report every check
version_added: 0.2.0
description:
  - Audits the evidence a confidential node presents before anyone sends it a key. It sends nothing, ever.
  - With O(endpoint), it opens an aTLS handshake to a node's recovery server or a Contrast Coordinator (O(peer)),
    keeps the certificate the peer presents for a fresh nonce, and drops the connection before any application
    byte is written. The certificate is then verified as O(certificate) would be.
  - With O(certificate), it verifies a saved aTLS certificate against the reference values of O(attestation_config),
    given the nonce the certificate answered (O(nonce)).
  - With O(snp_report), it verifies a raw AMD SEV-SNP attestation report offline, with its VCEK or VLEK
    (O(snp_signing_key)), against AMD's roots pinned in this collection and the checks of O(snp_reference).
  - With O(tdx_quote), it verifies an Intel TDX v4 quote offline. It checks the PCK chain to Intel's root pinned in
    this collection, the quote and QE report signatures, the QE binding, the TCB status from O(tdx_collateral), and
    the reference values of O(tdx_reference).
  - A failed check does not fail the task; it sets RV(verdict=failed). Use C(failed_when) to make it a gate.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.attributes.read_only
  - confidential.recovery.attestation
  - confidential.recovery.attestation.constellation
  - confidential.recovery.k8s_auth
options:
  port_forward:
    description:
      - Attest a Contrast Coordinator (O(peer=contrast_coordinator)) through a port-forward to a pod, opened through
        the Kubernetes API (the C(pods/portforward) subresource, with the O(kubeconfig) options), instead of an
        O(endpoint). For a cluster without a public load balancer; the pod is the C(port-forwarder-coordinator) of
        Contrast's recovery guide, which relays to the Coordinator. Only the aTLS handshake goes through it.
    type: dict
    version_added: 0.2.0
    suboptions:
      namespace:
        description: Namespace of the pod.
        type: str
        default: default
      pod:
        description: Name of the pod. Default the first Ready pod of O(port_forward.selector), else C(port-forwarder-coordinator).
        type: str
      selector:
        description: A label selector of the pods to choose from.
        type: str
      port:
        description: The pod's port that relays to the Coordinator's user API.
        type: int
        default: 1313
  endpoint:
    description: The address of a live peer to attest, a Constellation node's recovery server or a Contrast Coordinator (O(peer)).
    type: str
  peer:
    description:
      - What O(endpoint) is. A V(constellation_node) (the recovery server of a node that waits for its key) is checked
        with the Constellation variant of O(attestation) and O(attestation_config).
      - A V(constellation_verify_service) is a running node's verification service (what C(constellation verify) asks,
        plain gRPC on port 30081). Its attestation document, issued for a fresh nonce and the user data
        C(VerifyService), is checked with the same variant and reference values. This is how a healthy cluster's nodes
        are attested before an outage. Only the nonce is sent.
      - A V(contrast_coordinator) is checked with the Contrast variant of O(attestation) (V(snp), or V(lab)) against
        the reference values and the Coordinator policy hash of O(manifest).
    type: str
    choices: [constellation_node, constellation_verify_service, contrast_coordinator]
    default: constellation_node
  cluster_id:
    description:
      - For O(peer=constellation_verify_service), the cluster's ID (C(clusterValues.clusterID) of
        C(constellation-state.yaml), hex). A running node's PCR 15 (measurement 3 on V(qemu-tdx)) must then carry it,
        as C(constellation verify) checks, so a node of another cluster fails the C(measurements) check.
    type: str
  port:
    description: The port of O(endpoint). By default 9999 for a node, 30081 for a verification service, 1313 for a Coordinator.
    type: int
  coordinator_policy_hash:
    description:
      - The SHA-256 of the Coordinator's policy (64 hex digits), which the Coordinator's SEV-SNP HOST_DATA or TDX
        MRCONFIGID must show. It tells the Coordinator from the deployment's other pod VMs, which run the same launch
        measurement; a Coordinator that does not show it fails.
      - By default the hashes of the manifest's policies with C(Role) V(coordinator) (Contrast v1.7 and later). The
        manifests of Contrast v1.6 and older name no Coordinator policy, and the CLI brought the hash; give it here
        for such a manifest, as C(contrast set --coordinator-policy-hash) took it. When given, it replaces the
        manifest's.
      - With neither, the module refuses before it connects, for O(peer=contrast_coordinator).
    type: str
  manifest:
    description: The Contrast workspace's C(manifest.json), for O(peer=contrast_coordinator).
    type: path
  certificate:
    description: A saved aTLS certificate (PEM or DER) to verify offline; needs O(nonce).
    type: path
  nonce:
    description: The nonce, in hex, that the client sent when the saved O(certificate) was captured.
    type: str
  snp_report:
    description:
      - A raw SEV-SNP attestation report to verify offline, as bytes (1184 or more; an Azure HCL report is
        accepted, its own header included after the report) or base64.
    type: path
  snp_signing_key:
    description: The VCEK or VLEK (PEM or DER) that signed O(snp_report).
    type: path
  snp_intermediate:
    description:
      - The ASK or ASVK (PEM or DER) that issued O(snp_signing_key). By default the one pinned in this collection.
      - It is used only if the root signed it. With O(attestation_trust_anchor) it is required.
    type: path
  snp_reference:
    description: What O(snp_report) must show. Checks whose value is not given are reported as not checked.
    type: dict
    default: {}
    suboptions:
      report_data:
        description: The expected REPORT_DATA, 64 bytes in hex.
        type: str
      host_data:
        description: The expected HOST_DATA, 32 bytes in hex.
        type: str
      measurement:
        description: The expected launch measurement, 48 bytes in hex.
        type: str
      minimum_tcb:
        description: The minimum reported TCB, as C(bootloader), C(tee), C(snp) and C(microcode) numbers.
        type: dict
      minimum_launch_tcb:
        description: The minimum launch TCB, in the same form as O(snp_reference.minimum_tcb).
        type: dict
      vmpl:
        description: The VMPL the report must come from.
        type: int
        default: 0
      allow_debug:
        description: Accept a guest policy that allows debugging.
        type: bool
        default: false
      allow_migrate_ma:
        description: Accept a guest policy that allows a migration agent.
        type: bool
        default: false
      allow_smt:
        description: Accept a guest policy that allows SMT.
        type: bool
        default: true
      permit_provisional_firmware:
        description: Accept a committed TCB older than the current one.
        type: bool
        default: true
      trusted_id_key_digests:
        description: SHA-384 digests, in hex, of the ID keys trusted to have signed the guest's ID block. Given, one is required.
        type: list
        elements: str
  tdx_quote:
    description: An Intel TDX quote (format version 4) to verify offline, as raw bytes.
    type: path
  tdx_collateral:
    description:
      - The quote's collateral as Intel's PCS or a PCCS serves it, in one JSON file with the keys C(tcb_info),
        C(tcb_info_signature), C(tcb_info_issuer_chain), C(qe_identity), C(qe_identity_signature),
        C(qe_identity_issuer_chain), C(pck_crl), C(root_ca_crl) and C(pck_crl_issuer_chain) (the form dcap-qvl reads).
      - Without it the C(tcb_status) check fails; it is never skipped. Nothing is downloaded.
    type: path
  tdx_reference:
    description: What O(tdx_quote) must show. Values not given are reported as not checked.
    type: dict
    default: {}
    suboptions:
      mr_td:
        description: The expected MRTD, 48 bytes in hex.
        type: str
      rtmrs:
        description: The expected RTMR0 to RTMR3, in hex; give fewer, or null for one, to leave the rest unchecked.
        type: list
        elements: str
      mr_seam:
        description: The expected MRSEAM (the TDX module's measurement), 48 bytes in hex.
        type: str
      td_attributes:
        description: The expected TD attributes, 8 bytes in hex.
        type: str
      xfam:
        description: The expected XFAM, 8 bytes in hex.
        type: str
      mr_config_id:
        description: The expected MRCONFIGID, 48 bytes in hex.
        type: str
      mr_owner:
        description: The expected MROWNER, 48 bytes in hex.
        type: str
      mr_owner_config:
        description: The expected MROWNERCONFIG, 48 bytes in hex.
        type: str
      report_data:
        description: The expected REPORTDATA, 64 bytes in hex.
        type: str
      minimum_tee_tcb_svn:
        description: The minimum TEE_TCB_SVN, 16 bytes in hex, compared byte by byte.
        type: str
      allow_debug:
        description: Accept a TD whose attributes allow debugging.
        type: bool
        default: false
      accepted_tcb_statuses:
        description: The TCB statuses to accept. Anything but V(UpToDate) is an explicit, informed choice.
        type: list
        elements: str
        default: [UpToDate]
  now:
    description:
      - The time, in ISO 8601 (V(2026-11-25T00:00:00Z)), at which certificates must be valid. By default the current time.
      - Pin it to verify evidence captured while its certificates were valid.
    type: str
  attestation:
    required: false
requirements:
  - cryptography >= 43.0
  - PyYAML
  - dcap-qvl >= 0.7.0 (for O(tdx_quote))
seealso:
  - module: confidential.recovery.recovery_status_info
  - module: confidential.recovery.quorum_recover
"""

EXAMPLES = r"""
- name: Audit a node before any key is pushed
  confidential.recovery.attestation_info:
    endpoint: 10.9.0.5
    attestation: azure-sev-snp
    attestation_config: "{{ constellation_workspace }}/constellation-conf.yaml"
  register: audit
  failed_when: audit.verdict != 'passed'

- name: Before any outage, attest a running node through its verification service (port 30081)
  confidential.recovery.attestation_info:
    endpoint: 10.9.0.5
    peer: constellation_verify_service
    attestation: azure-sev-snp
    attestation_config: "{{ constellation_workspace }}/constellation-conf.yaml"
    cluster_id: "{{ state.clusterValues.clusterID }}"
  register: running
  failed_when: running.verdict != 'passed'

- name: Audit the Contrast Coordinator against the workspace manifest
  confidential.recovery.attestation_info:
    endpoint: 10.9.0.20
    peer: contrast_coordinator
    attestation: snp
    manifest: "{{ contrast_workspace }}/manifest.json"
  register: coordinator_audit

- name: Verify a saved SEV-SNP report and its VCEK, offline, as of the day it was captured
  confidential.recovery.attestation_info:
    snp_report: evidence/report.bin
    snp_signing_key: evidence/vcek.der
    now: "2026-11-25T00:00:00Z"
    snp_reference:
      report_data: "{{ expected_report_data }}"
      minimum_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
  register: snp_audit

- name: Verify a TDX quote with the collateral saved from Intel PCS, offline
  confidential.recovery.attestation_info:
    tdx_quote: evidence/quote.bin
    tdx_collateral: evidence/collateral.json
    tdx_reference:
      mr_td: "{{ expected_mr_td }}"
  register: tdx_audit
"""

RETURN = r"""
verdict:
  description: V(passed) when every check that ran passed, else V(failed).
  returned: always
  type: str
  sample: passed
checks:
  description: Each check in the order it runs, with its verdict (V(passed), V(failed) or V(not checked)) and detail.
  returned: always
  type: list
  elements: dict
  sample: [{"check": "signature", "verdict": "passed", "detail": ""},
           {"check": "minimum_tcb", "verdict": "failed",
            "detail": "the reported TCB (bl 3, tee 0, snp 7, ucode 115) is below the minimum (bl 3, tee 0, snp 8, ucode 115)"}]
evidence:
  description:
    - What the peer presented. For a vTPM variant, C(variant), C(measurements) (PCR index to hex) and C(platform)
      (the SEV-SNP report summary that vouched for the TPM key, if any). For an SNP report, its fields
      (C(measurement), C(report_data), C(host_data), C(chip_id), C(policy), C(vmpl), the TCBs) and the signing key's
      C(product), C(signer) and C(signing_key_tcb). For a TDX quote, its TD report (C(mr_td), C(rtmrs), C(mr_seam),
      C(td_attributes), C(xfam), C(report_data), C(tee_tcb_svn), ...).
    - Empty when a vTPM check failed.
  returned: always
  type: dict
  sample: {"variant": "sev-snp", "product": "Milan", "signer": "vcek", "policy": "0x30000", "vmpl": 0,
           "reported_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}}
source:
  description: What was verified.
  returned: always
  type: str
  sample: endpoint 10.9.0.5:9999
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._attestation_info import run
from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _choices
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH
from ansible_collections.confidential.recovery.plugins.module_utils._module._attestation_options import (
    ATTESTATION,
    CONSTELLATION_ATTESTATION,
)
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import module_arguments


def main():
    tcb = dict(type="dict")
    module = AnsibleModule(
        **module_arguments(
            ATTESTATION,
            CONSTELLATION_ATTESTATION,
            K8S_AUTH,
            endpoint=dict(type="str"),
            port_forward=dict(
                type="dict",
                options=dict(
                    namespace=dict(type="str", default="default"),
                    pod=dict(type="str"),
                    selector=dict(type="str"),
                    port=dict(type="int", default=1313),
                ),
            ),
            peer=dict(
                type="str",
                choices=["constellation_node", "constellation_verify_service", "contrast_coordinator"],
                default="constellation_node",
            ),
            cluster_id=dict(type="str"),
            port=dict(type="int"),
            manifest=dict(type="path"),
            coordinator_policy_hash=dict(type="str"),
            certificate=dict(type="path"),
            nonce=dict(type="str"),
            snp_report=dict(type="path"),
            snp_signing_key=dict(type="path"),
            snp_intermediate=dict(type="path"),
            tdx_quote=dict(type="path"),
            tdx_collateral=dict(type="path"),
            tdx_reference=dict(
                type="dict",
                default={},
                options=dict(
                    mr_td=dict(type="str"),
                    rtmrs=dict(type="list", elements="str"),
                    mr_seam=dict(type="str"),
                    td_attributes=dict(type="str"),
                    xfam=dict(type="str"),
                    mr_config_id=dict(type="str"),
                    mr_owner=dict(type="str"),
                    mr_owner_config=dict(type="str"),
                    report_data=dict(type="str"),
                    minimum_tee_tcb_svn=dict(type="str"),
                    allow_debug=dict(type="bool", default=False),
                    accepted_tcb_statuses=dict(type="list", elements="str", default=["UpToDate"]),
                ),
            ),
            snp_reference=dict(
                type="dict",
                default={},
                options=dict(
                    report_data=dict(type="str"),
                    host_data=dict(type="str"),
                    measurement=dict(type="str"),
                    minimum_tcb=tcb,
                    minimum_launch_tcb=tcb,
                    vmpl=dict(type="int", default=0),
                    allow_debug=dict(type="bool", default=False),
                    allow_migrate_ma=dict(type="bool", default=False),
                    allow_smt=dict(type="bool", default=True),
                    permit_provisional_firmware=dict(type="bool", default=True),
                    trusted_id_key_digests=dict(type="list", elements="str", no_log=False),
                ),
            ),
            now=dict(type="str"),
            # Only a live peer or a certificate needs a variant (required_by below).
            attestation=dict(type="str", choices=_choices.ATTESTATION_CHOICES),
        ),
        required_one_of=[("endpoint", "port_forward", "certificate", "snp_report", "tdx_quote")],
        mutually_exclusive=[("endpoint", "port_forward", "certificate", "snp_report", "tdx_quote")],
        required_by={
            "certificate": ("attestation", "nonce"),
            "endpoint": ("attestation",),
            "port_forward": ("attestation",),
            "snp_report": ("snp_signing_key",),
        },
        required_if=[("peer", "contrast_coordinator", ("manifest",))],
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
