# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's qemu-tdx attestation document and its validation (Constellation v2.x, internal/attestation/tdx).

No vTPM: the document is Go JSON of {RawQuote, UserData}. The quote's REPORTDATA is extraData = SHA256(UserData ||
nonce), zero-padded to 64 bytes. Upstream (go-tdx-qpl) verifies the quote against Intel's collateral and demands
the TCB status UpToDate; the measurements are MRTD as index 0 and RTMR0 to RTMR3 as indices 1 to 4.

Intel's collateral comes from ``_intel_pcs`` (the collateral directory, and Intel PCS or a PCCS only when the
user allows the download).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

from .._evidence._checks import CheckFailed, raises_only
from .._evidence._tdx_quote import QuoteFormatError, parse_quote
from .._evidence._tdx_verify import TdxPolicy, check_quote
from ._measurements import compare
from ._vtpm import go_bytes

CHECKS = ("document", "quote", "tcb_status", "report_data", "measurements")
_QUOTE_CHECKS = (
    "pck_chain",
    "quote_signature",
    "qe_report_signature",
    "qe_binding",
    "qe_vendor_id",
    "td_attributes_allowed",
    "xfam_valid",
)


class TdxDocumentError(CheckFailed):
    """The document is malformed or fails validation; ``check`` names the check."""


@dataclass
class TdxResult:
    user_data: bytes
    pcrs: dict[int, bytes]
    warnings: list[str] = field(default_factory=list)
    platform: dict = field(default_factory=dict)


def _fail(check: str, message: str) -> TdxDocumentError:
    error = TdxDocumentError(message)
    error.check = check
    return error


@raises_only(TdxDocumentError, "the attestation document")
def validate(raw: bytes, nonce: bytes, measurements, collateral, now, trust_anchor: bytes | None = None) -> TdxResult:
    """``now`` is a callable; ``measurements`` maps index (0 MRTD, 1-4 RTMR0-3) to Measurement; ``collateral`` is
    an _intel_pcs.PcsCollateral."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail("document", "the attestation document is not JSON") from exc
    if not isinstance(doc, dict):
        raise _fail("document", "the attestation document is not a JSON object")
    try:
        quote = parse_quote(go_bytes(doc.get("RawQuote"), "RawQuote", error=TdxDocumentError))
        user_data = go_bytes(doc.get("UserData"), "UserData", error=TdxDocumentError)
    except (QuoteFormatError, TdxDocumentError) as exc:
        raise _fail("document", str(exc)) from exc
    checks = {c.name: c for c in check_quote(quote, collateral.tdx(quote), TdxPolicy(), now(), trust_anchor)}
    failed = [
        f"{name}: {checks[name].detail}" for name in _QUOTE_CHECKS if name in checks and checks[name].passed is False
    ]
    if failed:
        raise _fail("quote", "TDX quote rejected: " + "; ".join(failed))
    if not checks["tcb_status"].passed:
        raise _fail("tcb_status", checks["tcb_status"].detail)
    extra_data = hashlib.sha256(user_data + nonce).digest()
    if not hmac.compare_digest(quote.report_data, extra_data.ljust(64, b"\x00")):
        raise _fail("report_data", "REPORTDATA does not bind this connection (a replayed or foreign quote)")
    pcrs = {0: quote.mr_td, **{index + 1: rtmr for index, rtmr in enumerate(quote.rtmrs)}}
    errors, warnings = compare(measurements, pcrs)
    if errors:
        raise _fail("measurements", "measurements do not match: " + "; ".join(errors))
    return TdxResult(user_data, pcrs, warnings, dict(quote.summary(), tcb_status=checks["tcb_status"].detail))
