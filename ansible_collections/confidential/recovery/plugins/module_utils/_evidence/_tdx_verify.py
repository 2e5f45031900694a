# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Verify an Intel TDX v4 quote, check by check, in the order of google/go-tdx-guest verify.TdxQuote and
validate.TdxQuote.

The PCK chain to Intel's pinned root, the quote signature, the QE report signature and the QE binding are checked
here with ``cryptography``. The TCB level is evaluated by dcap-qvl (Phala Network, MIT) from collateral the user
supplies (Intel PCS or a PCCS: TCB info, QE identity, CRLs, their issuer chains); dcap-qvl also checks the
collateral's signatures, expiry and revocation. It returns the TCB status instead of demanding UpToDate, so the
status is compared here: UpToDate unless the user explicitly accepts others.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import struct
from dataclasses import dataclass

from ._checks import Check, check
from ._intel_roots import INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_SHA256
from ._tdx_quote import HEADER_SVN_NAMES, TdxQuote

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

try:
    import dcap_qvl

    HAS_DCAP_QVL = True
    DCAP_QVL_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_DCAP_QVL = False
    DCAP_QVL_IMPORT_ERROR = _exc

INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
UP_TO_DATE = "UpToDate"
# TD attributes a TD may set (go-tdx-guest validate): DEBUG (bit 0), SEPT_VE_DISABLE (28), PKS (30), PERFMON (63).
TD_ATTRIBUTES_DEBUG = 1
TD_ATTRIBUTES_ALLOWED = 1 | 1 << 28 | 1 << 30 | 1 << 63
# XFAM: x87 and SSE (bits 0, 1) must be set; bits outside this mask must be clear (go-tdx-guest validate).
XFAM_REQUIRED = 0x3
XFAM_ALLOWED = 0x6DBE7


class TdxVerificationError(Exception):
    """A link of the quote's chain or a signature does not hold; the message says which."""


@dataclass(frozen=True)
class TdxPolicy:
    """What a quote must show. Values left None are reported as not checked."""

    mr_td: bytes | None = None
    rtmrs: tuple = (None, None, None, None)
    mr_seam: bytes | None = None
    td_attributes: bytes | None = None
    xfam: bytes | None = None
    mr_config_id: bytes | None = None
    mr_owner: bytes | None = None
    mr_owner_config: bytes | None = None
    report_data: bytes | None = None
    minimum_tee_tcb_svn: bytes | None = None
    minimum_qe_svn: int | None = None
    minimum_pce_svn: int | None = None
    qe_vendor_id: bytes | None = INTEL_QE_VENDOR_ID
    allow_debug: bool = False
    accepted_tcb_statuses: tuple[str, ...] = (UP_TO_DATE,)


def _p256(raw: bytes):
    return ec.EllipticCurvePublicNumbers(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"), ec.SECP256R1()
    ).public_key()


def _verify_p256(key, signature: bytes, message: bytes, what: str) -> None:
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise TdxVerificationError(f"{what} does not verify") from exc


def _name(cert) -> str:
    return cert.subject.rfc4514_string()


def is_pinned_intel_root(pem: bytes) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return False
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest() == INTEL_SGX_ROOT_CA_SHA256


def verify_pck_chain(pem_chain: bytes, now: datetime.datetime, trust_anchor: bytes | None = None):
    """The PCK leaf, after checking leaf <- PCK platform/processor CA <- Intel's pinned root, all valid at ``now``.
    ``trust_anchor`` (PEM) replaces Intel's root, for a test platform."""
    try:
        certs = x509.load_pem_x509_certificates(pem_chain)
    except ValueError as exc:
        raise TdxVerificationError(f"the PCK certificate chain is not PEM: {exc}") from exc
    if len(certs) < 2:
        raise TdxVerificationError(
            f"the PCK certificate chain has {len(certs)} certificate(s); it needs the leaf and its CA"
        )
    root = x509.load_pem_x509_certificate(trust_anchor or INTEL_SGX_ROOT_CA.encode())
    if (
        trust_anchor is None
        and hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest() != INTEL_SGX_ROOT_CA_SHA256
    ):
        raise TdxVerificationError("the pinned Intel SGX Root CA does not match its SHA-256 pin")
    leaf, intermediate = certs[0], certs[1]
    for child, parent in ((leaf, intermediate), (intermediate, root)):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise TdxVerificationError(f"{_name(child)} is not issued by {_name(parent)}") from exc
    for cert in (leaf, intermediate, root):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise TdxVerificationError(
                f"{_name(cert)} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d}, not at {now:%Y-%m-%d %H:%M} UTC"
            )
    if not isinstance(leaf.public_key(), ec.EllipticCurvePublicKey):
        raise TdxVerificationError("the PCK key is not ECDSA")
    return leaf


def _signature_checks(quote: TdxQuote, now: datetime.datetime, trust_anchor: bytes | None) -> list[Check]:
    checks = []
    try:
        pck = verify_pck_chain(quote.pck_chain_pem, now, trust_anchor)
        root = "the explicitly trusted root" if trust_anchor else "Intel SGX Root CA (pinned)"
        checks.append(Check("pck_chain", True, f"PCK -> {root}, valid at {now:%Y-%m-%d %H:%M} UTC"))
    except TdxVerificationError as exc:
        return [Check("pck_chain", False, str(exc))]
    try:
        _verify_p256(_p256(quote.attestation_key), quote.signature, quote.signed_bytes, "the quote's signature")
        checks.append(Check("quote_signature", True))
    except (TdxVerificationError, ValueError) as exc:
        checks.append(Check("quote_signature", False, str(exc)))
    try:
        _verify_p256(
            pck.public_key(), quote.qe_report_signature, quote.qe_report.raw, "the QE report's signature by the PCK"
        )
        checks.append(Check("qe_report_signature", True))
    except TdxVerificationError as exc:
        checks.append(Check("qe_report_signature", False, str(exc)))
    expected = hashlib.sha256(quote.attestation_key + quote.qe_auth_data).digest() + bytes(32)
    checks.append(
        check(
            "qe_binding",
            None
            if hmac.compare_digest(quote.qe_report.report_data, expected)
            else "the QE report does not bind the attestation key (REPORTDATA != SHA-256(key || auth data))",
        )
    )
    return checks


def _tcb_check(quote: TdxQuote, collateral_json: str | None, policy: TdxPolicy, now: datetime.datetime) -> Check:
    if not collateral_json:
        return Check(
            "tcb_status",
            False,
            "no collateral: the TCB status cannot be evaluated (give the Intel PCS/PCCS collateral for this quote)",
        )
    if not HAS_DCAP_QVL:
        return Check("tcb_status", False, "the TCB status needs the Python package dcap-qvl")
    try:
        collateral = dcap_qvl.QuoteCollateralV3.from_json(collateral_json)
        verified = dcap_qvl.verify(quote.raw, collateral, int(now.timestamp()))
    except (ValueError, RuntimeError) as exc:
        return Check("tcb_status", False, f"collateral or TCB evaluation failed: {exc}")
    status = verified.status
    advisories = f" (advisories: {', '.join(verified.advisory_ids)})" if verified.advisory_ids else ""
    if status not in policy.accepted_tcb_statuses:
        return Check(
            "tcb_status", False, f"TCB status {status}{advisories}; accepted: {', '.join(policy.accepted_tcb_statuses)}"
        )
    return Check("tcb_status", True, f"{status}{advisories}")


def _u64(raw: bytes) -> int:
    return struct.unpack("<Q", raw)[0]


def _equal(name: str, actual: bytes, expected: bytes | None) -> Check:
    if expected is None:
        return Check(name, None, "not asked for by the policy")
    return check(
        name, None if hmac.compare_digest(actual, expected) else f"{name} is {actual.hex()}, not {expected.hex()}"
    )


def _header_svn_checks(quote: TdxQuote, policy: TdxPolicy) -> list[Check]:
    svns = dict(zip(HEADER_SVN_NAMES, quote.header_svns, strict=False))
    checks = []
    for name, minimum in (("qe_svn", policy.minimum_qe_svn), ("pce_svn", policy.minimum_pce_svn)):
        problem = (
            None if minimum is None or svns[name] >= minimum else f"{name}: {svns[name]} is below the minimum {minimum}"
        )
        checks.append(check(f"minimum_{name}", problem, asked=minimum is not None))
    return checks


def _value_checks(quote: TdxQuote, policy: TdxPolicy) -> list[Check]:
    attributes, xfam = _u64(quote.td_attributes), _u64(quote.xfam)
    attribute_problem = None
    if attributes & ~TD_ATTRIBUTES_ALLOWED:
        attribute_problem = (
            f"TD attributes {quote.td_attributes.hex()} set bits outside DEBUG, SEPT_VE_DISABLE, PKS, PERFMON"
        )
    elif attributes & TD_ATTRIBUTES_DEBUG and not policy.allow_debug:
        attribute_problem = f"TD attributes {quote.td_attributes.hex()} allow debugging"
    xfam_problem = None
    if xfam & XFAM_REQUIRED != XFAM_REQUIRED or xfam & ~XFAM_ALLOWED:
        xfam_problem = (
            f"XFAM {quote.xfam.hex()} is not a valid TDX XFAM (x87 and SSE set, nothing outside {XFAM_ALLOWED:#x})"
        )
    svn_problem = None
    if policy.minimum_tee_tcb_svn is not None and any(
        got < want for got, want in zip(quote.tee_tcb_svn, policy.minimum_tee_tcb_svn, strict=False)
    ):
        svn_problem = f"TEE_TCB_SVN {quote.tee_tcb_svn.hex()} is below the minimum {policy.minimum_tee_tcb_svn.hex()}"
    checks = [
        _equal("qe_vendor_id", quote.qe_vendor_id, policy.qe_vendor_id),
        check("td_attributes_allowed", attribute_problem),
        check("xfam_valid", xfam_problem),
        check("minimum_tee_tcb_svn", svn_problem, asked=policy.minimum_tee_tcb_svn is not None),
        *_header_svn_checks(quote, policy),
        _equal("mr_td", quote.mr_td, policy.mr_td),
    ]
    checks += [_equal(f"rtmr{i}", quote.rtmrs[i], policy.rtmrs[i]) for i in range(4)]
    checks += [
        _equal(name, getattr(quote, name), getattr(policy, name))
        for name in ("mr_seam", "td_attributes", "xfam", "mr_config_id", "mr_owner", "mr_owner_config", "report_data")
    ]
    return checks


def check_quote(
    quote: TdxQuote,
    collateral_json: str | None,
    policy: TdxPolicy,
    now: datetime.datetime,
    trust_anchor: bytes | None = None,
) -> list[Check]:
    """Every check with its verdict: the chain and signatures, the TCB status, then the reference values."""
    return (
        _signature_checks(quote, now, trust_anchor)
        + [_tcb_check(quote, collateral_json, policy, now)]
        + _value_checks(quote, policy)
    )
