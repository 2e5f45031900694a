# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  attestation:
    description:
      - Attestation variant the peer must prove over aTLS before anything secret is sent.
      - V(lab) accepts the lab twin's test attestation (Constellation C(dummy), Contrast C(insecure)).
        Like O(ignore:validate_certs=false), it proves nothing about the hardware; the module warns on every use.
      - For Constellation, V(qemu-vtpm) compares the measurements in the node's TPM quote and event log with the
        reference values in the cluster's C(constellation-conf.yaml). It has B(no hardware root of trust), as the quote is
        signed by the attestation key the node's own document carries, so whoever answers on the node's address can
        forge one for the published values. The module warns on every use, and the report marks such nodes.
      - V(azure-sev-snp) also verifies the SEV-SNP report that vouches for the TPM's attestation key (its chain to
        AMD's pinned root, its signature, Azure's guest policy, the minimum TCB, the ID-key digest rule and the HCL
        runtime-data binding).
      - V(aws-sev-snp) verifies the VLEK-signed SEV-SNP report that names the TPM's attestation key (AWS's policy, the
        minimum launch TCB).
      - V(gcp-sev-snp) verifies the SEV-SNP report that binds the connection, then trusts the TPM key Compute Engine
        reports for the instance (from C(attestation_collateral_dir)).
      - V(aws-nitro-tpm) requires that the instance's image supports NitroTPM (a saved DescribeImages answer in
        C(attestation_collateral_dir)). Like V(qemu-vtpm) it has no hardware root of trust (AWS does not sign the key),
        and warns on every use.
      - V(gcp-sev-es) trusts the TPM key Compute Engine reports for the instance (from C(attestation_collateral_dir)) and
        requires GCE's firmware and AMD SEV in the event log.
      - V(azure-tdx) verifies the TD quote that binds the HCL runtime data naming the TPM key, against the C(azureTDX)
        minimums and Intel's collateral (from C(attestation_collateral_dir)).
      - V(qemu-tdx) verifies the node's TDX quote, its TCB status from Intel's collateral (from
        C(attestation_collateral_dir)) and its MRTD and RTMRs.
      - V(auto) (Constellation only) takes the variant from the one key under C(attestation) in the cluster's
        C(constellation-conf.yaml) (C(azureSEVSNP) is V(azure-sev-snp), and so on), and says which variant it picked
        from which key.
      - For the Contrast Coordinator, V(snp) verifies its SEV-SNP report against the manifest's C(ReferenceValues.snp)
        (AMD chain and CRL, measurement, guest policy, minimum TCB, ID-key digest, platform features, chip IDs),
        REPORT_DATA bound to the connection and HOST_DATA equal to the Coordinator's policy hash. V(tdx) verifies
        its TDX quote against C(ReferenceValues.tdx), with Intel's collateral from C(attestation_collateral_dir). An
        entry without a value upstream Contrast requires (SNP C(ProductName), C(TrustedMeasurement), C(MinimumTCB); TDX
        C(MrTd), C(MrSeam), C(Xfam), C(Rtmrs)) is refused by name, and a Coordinator policy hash is always compared.
      - The other hardware variants are named so that choosing one fails clearly; this release ships no validator for them.
    type: str
    required: true
    choices: [lab, auto, aws-nitro-tpm, aws-sev-snp, azure-sev-snp, azure-tdx, azure-trustedlaunch, gcp-sev-es, gcp-sev-snp, qemu-tdx, qemu-vtpm, snp, tdx]
  timeout:
    description: Seconds allowed for each TCP connect, TLS handshake and gRPC call.
    type: float
    default: 30
"""

    # The Constellation modules: where the reference values come from.
    CONSTELLATION = r"""
options:
  attestation_config:
    description:
      - The cluster's C(constellation-conf.yaml). Its C(attestation) section gives the reference measurements
        (enforced entries must match; C(warnOnly) ones that differ become warnings).
      - Required for every hardware variant; a hardware variant without reference values is refused.
      - For the SEV-SNP variants, C(amdRootKey) must be one of AMD's ARKs (pinned in this collection) or absent.
    type: path
  attestation_trust_anchor:
    description:
      - A PEM file with a root certificate to trust instead of AMD's pinned ARKs, for a test platform such as the
        lab twin (C(conflab up --attestation snp) writes one). The evidence must then bring its ASK.
      - Never needed for a real cluster. Every use warns.
    type: path
  attestation_collateral_dir:
    description:
      - A directory of evidence saved beforehand, so that attestation needs no cloud call.
      - For V(gcp-sev-snp) and V(gcp-sev-es), C(gce/<project>/<zone>/<instance>.pem) holds the instance's vTPM signing key as Compute
        Engine reports it, the C(signingKey.ekPub) field that C(gcloud compute instances get-shielded-identity INSTANCE --zone ZONE)
        prints. A node whose key is missing is refused, and the message names the file.
      - For V(aws-nitro-tpm), C(aws/<region>/<image id>.json) holds the output of C(aws ec2 describe-images) for the
        image the nodes boot.
      - With O(attestation_gce_api), the GCP variants ask Compute Engine for the key instead, and with
        O(attestation_aws_api) V(aws-nitro-tpm) asks EC2 for the image; this directory is then read only when the cloud
        cannot be asked.
      - For V(qemu-tdx) and V(azure-tdx), C(pcs/tdx/<FMSPC>.json) holds Intel's collateral for the platform in the
        form dcap-qvl reads (TCB info, QE identity, CRLs and their issuer chains, from Intel PCS or a PCCS).
    type: path
  attestation_gce_api:
    description:
      - How to reach Compute Engine, for V(gcp-sev-snp) and V(gcp-sev-es). The instance's vTPM signing key is then asked
        for at attestation time (C(instances.getShieldedInstanceIdentity), as upstream's validator does), so no key has to
        be saved beforehand. The confidential.recovery.constellation inventory's C(constellation_boot_log) host variable
        of a GCP node holds these fields, and the constellation_recover role passes them.
      - Only an instance of O(attestation_gce_api.project) is asked for; a node whose document names another project is
        refused. An answer that there is no such instance, or no key, refuses the node. When Compute Engine cannot be
        asked (no answer, no credentials, no permission), the key saved in O(attestation_collateral_dir) is used.
      - The credentials need C(compute.instances.getShieldedInstanceIdentity) (in the role C(roles/compute.viewer)).
    type: dict
    suboptions:
      project:
        description: The cluster's project.
        type: str
        required: true
      auth_kind:
        description: V(application) (Application Default Credentials), V(serviceaccount), or V(anonymous) (only for a double).
        type: str
        choices: [application, serviceaccount, anonymous]
        default: application
      service_account_file:
        description: The service account's JSON key file, for O(attestation_gce_api.auth_kind=serviceaccount).
        type: path
      api_endpoint:
        description: The Compute API's address, when not C(https://compute.googleapis.com) (a Private Service Connect endpoint, or a double).
        type: str
  attestation_aws_api:
    description:
      - How V(aws-nitro-tpm) reaches EC2, to ask C(DescribeImages) whether the image a node's identity document names
        supports NitroTPM, as upstream's validator does; no answer has to be saved beforehand. The
        confidential.recovery.constellation inventory's C(constellation_boot_log) host variable of an AWS node holds
        these fields, and the constellation_recover role passes them. Credentials come from boto3's usual chain.
      - Only the cluster's region is asked; a node whose document names another region is refused, and so is an image
        EC2 does not know. When EC2 cannot be asked (no answer, no credentials, no permission), the answer saved in
        O(attestation_collateral_dir) is used. The credentials need C(ec2:DescribeImages).
    type: dict
    suboptions:
      region:
        description: The cluster's region.
        type: str
        required: true
      profile:
        description: The AWS profile to use.
        type: str
      endpoint_url:
        description: The EC2 endpoint, when not the region's public one (a VPC endpoint, or a double).
        type: str
"""

    # The modules that push keys: they may fetch what attestation needs, when the user allows it.
    COLLATERAL_DOWNLOAD = r"""
options:
  attestation_collateral_download:
    description:
      - Fetch Intel's TDX collateral missing from O(attestation_collateral_dir) from O(attestation_pccs_url), and keep
        it there for the next run. Off by default; the module then only reads the directory.
    type: bool
    default: false
  attestation_pccs_url:
    description:
      - Intel's Provisioning Certification Service, or a caching service of its API v4 (a PCCS, such as the one of
        your cloud), for O(attestation_collateral_download).
    type: str
    default: https://api.trustedservices.intel.com
"""
