# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's aws-sev-snp variant: which attestation key to trust (Constellation v2.x,
internal/attestation/aws/snp).

The vTPM document's InstanceInfo carries the SEV-SNP report and the VLEK that signed it (AWS signs with a VLEK,
issued to AWS by AMD's ASVK). The key is trusted when the report verifies (chain to the pinned ARK, signature,
AWS's policy) and its REPORT_DATA is SHA-512 of the key's SubjectPublicKeyInfo. Freshness comes from the TPM quote.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from .._evidence._amd_chain import VLEK, ChainError, verify_signing_key
from .._evidence._snp_config import minimum_tcb
from .._evidence._snp_report import ReportFormatError, Tcb, parse_report
from .._evidence._snp_verify import SnpPolicy, SnpVerificationError, verify_report
from ._vtpm import go_bytes, instance_info_object

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass


class AwsSnpError(Exception):
    """The document or the configuration does not let the attestation key be trusted; the message says why."""


@dataclass(frozen=True)
class AwsSnpConfig:
    minimum_launch_tcb: Tcb
    signing_key_issuer: bytes | None  # amdSigningKey: the ASVK, if the user pinned one


def parse_config(section: dict) -> AwsSnpConfig:
    """The awsSEVSNP section of constellation-conf.yaml. Upstream checks only the minimum *launch* TCB."""
    issuer = section.get("amdSigningKey")
    return AwsSnpConfig(minimum_tcb(section, "awsSEVSNP", AwsSnpError), str(issuer).encode() if issuer else None)


def parse_instance_info(raw: bytes) -> tuple[bytes, bytes]:
    """(the VLEK, the report) from InstanceInfo."""
    doc = instance_info_object(raw, AwsSnpError)
    signer = go_bytes(doc.get("ReportSigner"), "InstanceInfo.ReportSigner", error=AwsSnpError)
    report = go_bytes(doc.get("AttestationReport"), "InstanceInfo.AttestationReport", error=AwsSnpError)
    return signer, report


def trusted_ak(
    instance_info: bytes, ak, config: AwsSnpConfig, now: datetime.datetime, trust_anchor: bytes | None = None
):
    """(``ak``, a summary of the SNP evidence) if the evidence vouches for the key; AwsSnpError otherwise."""
    signer, report_bytes = parse_instance_info(instance_info)
    spki = ak.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        report = parse_report(report_bytes)
        signing_key = verify_signing_key(
            signer, now, intermediate_bytes=config.signing_key_issuer, trust_anchor=trust_anchor
        )
        if signing_key.kind != VLEK:
            raise AwsSnpError("AWS reports are signed by a VLEK; this one came with a VCEK")
        policy = SnpPolicy(
            allow_debug=False,
            allow_smt=True,
            vmpl=0,
            minimum_launch_tcb=config.minimum_launch_tcb,
            permit_provisional_firmware=True,
            report_data=hashlib.sha512(spki).digest(),
        )
        verify_report(report, signing_key, policy)
    except (ReportFormatError, ChainError, SnpVerificationError) as exc:
        raise AwsSnpError(str(exc)) from exc
    return ak, dict(report.summary(), product=signing_key.product, signer=signing_key.kind, csp_id=signing_key.csp_id)
