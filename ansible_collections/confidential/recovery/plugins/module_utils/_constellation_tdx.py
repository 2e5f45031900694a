# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation's qemu-tdx attestation document and its validation (Constellation v2.x, internal/attestation/tdx).

No vTPM: the document is Go JSON of {RawQuote, UserData}. The quote's REPORTDATA is extraData = SHA256(UserData ||
nonce), zero-padded to 64 bytes. Upstream (go-tdx-qpl) verifies the quote against Intel's collateral and demands
the TCB status UpToDate; the measurements are MRTD as index 0 and RTMR0 to RTMR3 as indices 1 to 4.

The collateral is read from the collateral directory, ``pcs/tdx/<FMSPC>.json``, in the form dcap-qvl reads (Intel
PCS or a PCCS serves its parts); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field

from ._checks import CheckFailed
from ._constellation_vtpm import go_bytes
from ._measurements import compare
from ._tdx_quote import QuoteFormatError, parse_quote
from ._tdx_verify import HAS_DCAP_QVL, TdxPolicy, check_quote

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

try:
    import dcap_qvl
except ImportError:  # pragma: no cover - HAS_DCAP_QVL says so
    pass

CHECKS = ("document", "quote", "tcb_status", "report_data", "measurements")
_QUOTE_CHECKS = ("pck_chain", "quote_signature", "qe_report_signature", "qe_binding", "qe_vendor_id",
                 "td_attributes_allowed", "xfam_valid")


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


def fmspc_of(quote) -> str:
    """The platform's FMSPC, from the PCK certificate's SGX extension: it names the collateral the quote needs."""
    try:
        leaf = x509.load_pem_x509_certificates(quote.pck_chain_pem)[0]
        extension = dcap_qvl.parse_pck_extension_from_pem(leaf.public_bytes(serialization.Encoding.PEM))
    except (ValueError, IndexError) as exc:
        raise _fail("tcb_status", f"cannot read the FMSPC from the PCK certificate: {exc}") from exc
    return bytes(extension.fmspc).hex().upper()


def read_collateral(quote, collateral_dir: str | None) -> str:
    if not HAS_DCAP_QVL:
        raise _fail("tcb_status", "evaluating a TDX quote's TCB needs the Python package dcap-qvl")
    fmspc = fmspc_of(quote)
    if not collateral_dir:
        raise _fail("tcb_status", f"the quote's TCB needs Intel's collateral for FMSPC {fmspc}: set "
                                  f"attestation_collateral_dir and save it as pcs/tdx/{fmspc}.json there")
    path = os.path.join(collateral_dir, "pcs", "tdx", f"{fmspc}.json")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise _fail("tcb_status", f"no collateral for FMSPC {fmspc} at {path} ({exc.strerror})") from exc


def validate(raw: bytes, nonce: bytes, measurements, collateral_dir: str | None, now,
             trust_anchor: bytes | None = None) -> TdxResult:
    """``now`` is a callable; ``measurements`` maps index (0 MRTD, 1-4 RTMR0-3) to Measurement."""
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
    checks = {c.name: c for c in check_quote(quote, read_collateral(quote, collateral_dir), TdxPolicy(), now(), trust_anchor)}
    failed = [f"{name}: {checks[name].detail}" for name in _QUOTE_CHECKS if name in checks and checks[name].passed is False]
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
