# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation's gcp-sev-snp variant: which attestation key to trust (Constellation v2.x,
internal/attestation/gcp/snp).

The vTPM document's InstanceInfo carries the SEV-SNP report, the VCEK (and possibly the ASK) from the extended
report, and the instance's project, zone and name. The report must bind this connection: REPORT_DATA is extraData
followed by 32 zero bytes. Once it verifies, the key to trust is the one Compute Engine holds for the instance
(compute.instances.getShieldedInstanceIdentity, signingKey.ekPub). That answer is read from the collateral
directory, where the user saved it beforehand; this module never calls the Compute API itself.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass

from ._amd_chain import VCEK, ChainError, verify_signing_key
from ._constellation_vtpm import go_bytes
from ._snp_config import first_certificate, minimum_tcb
from ._snp_report import ReportFormatError, Tcb, parse_report
from ._snp_verify import SnpPolicy, SnpVerificationError, verify_report

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

# Compute Engine resource names: lowercase letters, digits, hyphens (projects may also contain dots and colons).
_NAME = re.compile(r"^[a-z0-9][a-z0-9.:-]{0,99}$")


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
    project: str
    zone: str
    instance: str


def parse_config(section: dict) -> GcpSnpConfig:
    """The gcpSEVSNP section of constellation-conf.yaml. Like AWS, upstream checks only the minimum launch TCB."""
    return GcpSnpConfig(minimum_tcb(section, "gcpSEVSNP", GcpSnpError))


def parse_instance_info(raw: bytes) -> GcpInstanceInfo:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GcpSnpError("InstanceInfo is not JSON") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("GCP"), dict):
        raise GcpSnpError("InstanceInfo has no GCP section: not a gcp-sev-snp document")
    gcp = doc["GCP"]
    names = [gcp.get(key) for key in ("project_id", "zone", "instance_name")]
    if not all(isinstance(name, str) and _NAME.match(name) for name in names):
        raise GcpSnpError(f"InstanceInfo.GCP names no valid project, zone and instance: {names!r}")
    return GcpInstanceInfo(
        report_signer=go_bytes(doc.get("ReportSigner"), "InstanceInfo.ReportSigner", error=GcpSnpError),
        cert_chain=go_bytes(doc.get("CertChain"), "InstanceInfo.CertChain", allow_null=True, error=GcpSnpError),
        attestation_report=go_bytes(doc.get("AttestationReport"), "InstanceInfo.AttestationReport", error=GcpSnpError),
        project=names[0], zone=names[1], instance=names[2],
    )


def gce_key_path(collateral_dir: str, info: GcpInstanceInfo) -> str:
    return os.path.join(collateral_dir, "gce", info.project, info.zone, f"{info.instance}.pem")


def gce_attestation_key(collateral_dir: str | None, info: GcpInstanceInfo):
    """The instance's vTPM signing key as Compute Engine reported it, saved in the collateral directory."""
    capture = (f"gcloud compute instances get-shielded-identity {info.instance} --zone {info.zone} "
               f"--project {info.project} --format='value(signingKey.ekPub)'")
    if not collateral_dir:
        raise GcpSnpError(f"gcp-sev-snp needs the instance's attestation key from Compute Engine: set "
                          f"attestation_collateral_dir and save the output of `{capture}` as "
                          f"gce/{info.project}/{info.zone}/{info.instance}.pem in it")
    path = gce_key_path(collateral_dir, info)
    try:
        with open(path, "rb") as handle:
            return serialization.load_pem_public_key(handle.read())
    except OSError as exc:
        raise GcpSnpError(f"no Compute Engine attestation key for {info.project}/{info.zone}/{info.instance} at {path} "
                          f"({exc.strerror}): save the output of `{capture}` there") from exc
    except ValueError as exc:
        raise GcpSnpError(f"{path} is not a PEM public key") from exc


def trusted_ak(instance_info: bytes, extra_data: bytes, config: GcpSnpConfig, now: datetime.datetime,
               collateral_dir: str | None, trust_anchor: bytes | None = None):
    """(the GCE attestation key, a summary of the SNP evidence), after the report verified; GcpSnpError otherwise."""
    info = parse_instance_info(instance_info)
    if len(extra_data) > 64:
        raise GcpSnpError("extraData is longer than REPORT_DATA")
    try:
        report = parse_report(info.attestation_report)
        signing_key = verify_signing_key(info.report_signer, now, intermediate_bytes=first_certificate(info.cert_chain),
                                         trust_anchor=trust_anchor)
        if signing_key.kind != VCEK:
            raise GcpSnpError("GCP reports are signed by a VCEK; this one came with a VLEK")
        policy = SnpPolicy(allow_debug=False, allow_smt=True, vmpl=0, minimum_launch_tcb=config.minimum_launch_tcb,
                           permit_provisional_firmware=True, report_data=extra_data.ljust(64, b"\x00"))
        verify_report(report, signing_key, policy)
    except (ReportFormatError, ChainError, SnpVerificationError) as exc:
        raise GcpSnpError(str(exc)) from exc
    ak = gce_attestation_key(collateral_dir, info)
    summary = dict(report.summary(), product=signing_key.product, signer=signing_key.kind,
                   instance=f"{info.project}/{info.zone}/{info.instance}")
    return ak, summary
