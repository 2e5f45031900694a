# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's gcp-sev-snp variant: which attestation key to trust (Constellation v2.x,
internal/attestation/gcp/snp).

The vTPM document's InstanceInfo carries the SEV-SNP report, the VCEK (and possibly the ASK) from the extended
report, and the instance's project, zone and name. The report must bind this connection: REPORT_DATA is extraData
followed by 32 zero bytes. Once it verifies, the key to trust is the one Compute Engine holds for the instance
(compute.instances.getShieldedInstanceIdentity, signingKey.ekPub), from the collateral directory (_gce.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .._evidence._amd_chain import VCEK, ChainError, verify_signing_key
from .._evidence._snp_config import first_certificate, minimum_tcb
from .._evidence._snp_report import ReportFormatError, Tcb, parse_report
from .._evidence._snp_verify import SnpPolicy, SnpVerificationError, verify_report
from ._gce import GceError, GceInstance
from ._vtpm import go_bytes, instance_info_object


class GcpSnpError(Exception):
    """The document, the configuration or the collateral does not let the attestation key be trusted."""


@dataclass(frozen=True)
class GcpSnpConfig:
    minimum_launch_tcb: Tcb


@dataclass(frozen=True)
class GcpInstanceInfo:
    report_signer: bytes
    cert_chain: bytes
    attestation_report: bytes
    instance: GceInstance


def parse_config(section: dict) -> GcpSnpConfig:
    """The gcpSEVSNP section of constellation-conf.yaml. Like AWS, upstream checks only the minimum launch TCB."""
    return GcpSnpConfig(minimum_tcb(section, "gcpSEVSNP", GcpSnpError))


def parse_instance_info(raw: bytes) -> GcpInstanceInfo:
    doc = instance_info_object(raw, GcpSnpError)
    if not isinstance(doc.get("GCP"), dict):
        raise GcpSnpError("InstanceInfo has no GCP section: not a gcp-sev-snp document")
    try:
        instance = GceInstance.from_fields(doc["GCP"])
    except GceError as exc:
        raise GcpSnpError(f"InstanceInfo.GCP: {exc}") from exc
    return GcpInstanceInfo(
        report_signer=go_bytes(doc.get("ReportSigner"), "InstanceInfo.ReportSigner", error=GcpSnpError),
        cert_chain=go_bytes(doc.get("CertChain"), "InstanceInfo.CertChain", allow_null=True, error=GcpSnpError),
        attestation_report=go_bytes(doc.get("AttestationReport"), "InstanceInfo.AttestationReport", error=GcpSnpError),
        instance=instance,
    )


def trusted_ak(
    instance_info: bytes,
    extra_data: bytes,
    config: GcpSnpConfig,
    now: datetime.datetime,
    gce_keys,
    trust_anchor: bytes | None = None,
):
    """(the GCE attestation key, a summary of the SNP evidence), after the report verified; GcpSnpError otherwise."""
    info = parse_instance_info(instance_info)
    if len(extra_data) > 64:
        raise GcpSnpError("extraData is longer than REPORT_DATA")
    try:
        report = parse_report(info.attestation_report)
        signing_key = verify_signing_key(
            info.report_signer, now, intermediate_bytes=first_certificate(info.cert_chain), trust_anchor=trust_anchor
        )
        if signing_key.kind != VCEK:
            raise GcpSnpError("GCP reports are signed by a VCEK; this one came with a VLEK")
        policy = SnpPolicy(
            allow_debug=False,
            allow_smt=True,
            vmpl=0,
            minimum_launch_tcb=config.minimum_launch_tcb,
            permit_provisional_firmware=True,
            report_data=extra_data.ljust(64, b"\x00"),
        )
        verify_report(report, signing_key, policy)
    except (ReportFormatError, ChainError, SnpVerificationError) as exc:
        raise GcpSnpError(str(exc)) from exc
    try:
        ak = gce_keys.key(info.instance)
    except GceError as exc:
        raise GcpSnpError(str(exc)) from exc
    summary = dict(report.summary(), product=signing_key.product, signer=signing_key.kind, instance=str(info.instance))
    return ak, summary
