# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's azure-tdx variant: which attestation key to trust (Constellation v2.x,
internal/attestation/azure/tdx and internal/attestation/azure/azure.go).

The vTPM document's InstanceInfo carries the TD's quote (from Azure's IMDS) and the HCL's runtime data. The key is
trusted when the quote verifies (chain to Intel's root, signatures, TCB UpToDate by the collateral, the azureTDX
minimums) and its REPORTDATA binds the runtime data, whose first key is the TPM's attestation key. MRTD and the
RTMRs are not compared: the vTPM's PCRs are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .._evidence._intel_pcs import CollateralError
from .._evidence._tdx_quote import QuoteFormatError, parse_quote
from .._evidence._tdx_verify import TdxPolicy, check_quote
from . import _azure_snp
from ._vtpm import go_bytes, instance_info_object


class AzureTdxError(Exception):
    """The document or the configuration does not let the attestation key be trusted; the message says why."""


@dataclass(frozen=True)
class AzureTdxConfig:
    qe_svn: int
    pce_svn: int
    tee_tcb_svn: bytes
    qe_vendor_id: bytes
    xfam: bytes
    mr_seam: bytes | None


def _latest(section: dict, key: str):
    value = section.get(key)
    if value == "latest":
        raise AzureTdxError(
            f"attestation.azureTDX.{key} is 'latest': give the value (the CLI resolves 'latest' from "
            "Constellation's signed CDN list; this collection does not fetch it)"
        )
    return value


def _svn(section: dict, key: str) -> int:
    value = _latest(section, key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
        raise AzureTdxError(f"attestation.azureTDX.{key} must be a number from 0 to 65535, got {value!r}")
    return value


def _hex(section: dict, key: str, size: int) -> bytes:
    value = _latest(section, key)
    if value is None:  # mrSeam too: upstream would leave it unchecked, this collection refuses
        raise AzureTdxError(f"attestation.azureTDX.{key} is missing")
    try:
        raw = bytes.fromhex(str(value))
    except ValueError as exc:
        raise AzureTdxError(f"attestation.azureTDX.{key} is not hex: {value!r}") from exc
    if len(raw) != size:
        raise AzureTdxError(f"attestation.azureTDX.{key} must be {size} bytes, got {len(raw)}")
    return raw


def parse_config(section: dict) -> AzureTdxConfig:
    return AzureTdxConfig(
        qe_svn=_svn(section, "qeSVN"),
        pce_svn=_svn(section, "pceSVN"),
        tee_tcb_svn=_hex(section, "teeTCBSVN", 16),
        qe_vendor_id=_hex(section, "qeVendorID", 16),
        xfam=_hex(section, "xfam", 8),
        mr_seam=_hex(section, "mrSeam", 48),
    )


def parse_instance_info(raw: bytes) -> tuple[bytes, bytes]:
    """(the quote, the HCL runtime data)."""
    doc = instance_info_object(raw, AzureTdxError)
    return (
        go_bytes(doc.get("AttestationReport"), "InstanceInfo.AttestationReport", error=AzureTdxError),
        go_bytes(doc.get("RuntimeData"), "InstanceInfo.RuntimeData", error=AzureTdxError),
    )


def trusted_ak(
    instance_info: bytes,
    ak,
    config: AzureTdxConfig,
    now: datetime.datetime,
    collateral,
    trust_anchor: bytes | None = None,
):
    """(``ak``, a summary of the TDX evidence) if the quote vouches for the key; AzureTdxError otherwise."""
    quote_bytes, runtime_data = parse_instance_info(instance_info)
    try:
        quote = parse_quote(quote_bytes)
        collateral_json = collateral.tdx(quote)
    except (QuoteFormatError, CollateralError) as exc:
        raise AzureTdxError(str(exc)) from exc
    policy = TdxPolicy(
        mr_seam=config.mr_seam,
        xfam=config.xfam,
        minimum_tee_tcb_svn=config.tee_tcb_svn,
        minimum_qe_svn=config.qe_svn,
        minimum_pce_svn=config.pce_svn,
        qe_vendor_id=config.qe_vendor_id,
    )
    problems = [
        f"{c.name}: {c.detail}"
        for c in check_quote(quote, collateral_json, policy, now, trust_anchor)
        if c.passed is False
    ]
    if problems:
        raise AzureTdxError("TDX quote rejected: " + "; ".join(problems))
    try:
        _azure_snp.check_runtime_data(runtime_data, quote.report_data, ak)
    except _azure_snp.AzureSnpError as exc:
        raise AzureTdxError(str(exc).replace("REPORT_DATA", "REPORTDATA")) from exc
    return ak, quote.summary()
