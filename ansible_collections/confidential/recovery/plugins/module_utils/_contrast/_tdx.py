# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Contrast's TDX attestation of the Coordinator (Contrast internal/attestation/tdx, internal/manifest).

The aTLS extension 1.3.9901.2.2 holds go-tdx-guest's QuoteV4 protobuf. The quote is rebuilt into its bytes and
verified like any TDX quote (_tdx_verify), with Intel's collateral from the collateral directory. Then any one of
the manifest's ``ReferenceValues.tdx`` entries must accept it. REPORTDATA is SHA-512 of the certificate key and the
nonce; the first 32 bytes of MRCONFIGID are the Coordinator's policy hash.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import struct

from .._evidence._checks import raises_only
from .._evidence._intel_pcs import CollateralError, pck_extension
from .._evidence._tdx_quote import HEADER_SVN_NAMES, QuoteFormatError, parse_quote
from .._evidence._tdx_verify import TdxPolicy, check_quote
from ._reference_values import NO_POLICY_HASH, require_an_accepting_entry

try:
    from .._generated import tdx_pb2

    PROTOBUF_IMPORT_ERROR = tdx_pb2.PROTOBUF_IMPORT_ERROR
except ImportError as _exc:  # pragma: no cover - the generated module guards its own imports
    PROTOBUF_IMPORT_ERROR = _exc

_BODY_FIELDS = (
    ("tee_tcb_svn", 16),
    ("mr_seam", 48),
    ("mr_signer_seam", 48),
    ("seam_attributes", 8),
    ("td_attributes", 8),
    ("xfam", 8),
    ("mr_td", 48),
    ("mr_config_id", 48),
    ("mr_owner", 48),
    ("mr_owner_config", 48),
)
_QE_REPORT_FIELDS = (
    ("cpu_svn", 16),
    ("misc_select", 4),
    ("reserved1", 28),
    ("attributes", 16),
    ("mr_enclave", 32),
    ("reserved2", 32),
    ("mr_signer", 32),
    ("reserved3", 96),
    ("isv_prod_id", 2),
    ("isv_svn", 2),
    ("reserved4", 60),
    ("report_data", 64),
)


# Contrast requires SEPT_VE_DISABLE and nothing else in the TD attributes; newer manifests do not carry the field.
REQUIRED_TD_ATTRIBUTES = bytes.fromhex("0000001000000000")
# The PCK certificate's SGX extension (Intel's PCK certificate profile): the platform instance ID and configuration.
PIID_OID = "1.2.840.113741.1.13.1.6"
DYNAMIC_PLATFORM_OID = "1.2.840.113741.1.13.1.7.1"
SMT_ENABLED_OID = "1.2.840.113741.1.13.1.7.3"
SGX_TYPE_SCALABLE_WITH_INTEGRITY = 2


class ContrastTdxError(Exception):
    """The Coordinator's TDX evidence is not acceptable; the message says why."""


def _sized(value: bytes, size: int, what: str) -> bytes:
    if len(value) != size:
        raise ContrastTdxError(f"the quote's {what} has {len(value)} bytes, not {size}")
    return value


def _qe_report(report) -> bytes:
    out = b""
    for name, size in _QE_REPORT_FIELDS:
        value = getattr(report, name)
        out += value.to_bytes(size, "little") if isinstance(value, int) else _sized(value, size, f"QE report {name}")
    return out


def abi_bytes(quote) -> bytes:
    """go-tdx-guest's QuoteToAbiBytes: the v4 quote's bytes from its protobuf form."""
    header = quote.header
    svns = {"qe_svn": _sized(header.qe_svn, 2, "QE SVN"), "pce_svn": _sized(header.pce_svn, 2, "PCE SVN")}
    out = struct.pack("<HHI", header.version, header.attestation_key_type, header.tee_type)
    out += b"".join(svns[name] for name in HEADER_SVN_NAMES)
    out += _sized(header.qe_vendor_id, 16, "QE vendor ID") + _sized(header.user_data, 20, "header user data")
    body = quote.td_quote_body
    out += b"".join(_sized(getattr(body, name), size, name) for name, size in _BODY_FIELDS)
    if len(body.rtmrs) != 4:
        raise ContrastTdxError(f"the quote has {len(body.rtmrs)} RTMRs, not 4")
    out += b"".join(_sized(rtmr, 48, "RTMR") for rtmr in body.rtmrs) + _sized(body.report_data, 64, "REPORTDATA")
    signed = quote.signed_data
    qe = signed.certification_data.qe_report_certification_data
    chain = qe.pck_certificate_chain_data
    qe_data = (
        _qe_report(qe.qe_report)
        + _sized(qe.qe_report_signature, 64, "QE report signature")
        + struct.pack("<H", len(qe.qe_auth_data.data))
        + qe.qe_auth_data.data
        + struct.pack("<HI", chain.certificate_data_type, len(chain.pck_cert_chain))
        + chain.pck_cert_chain
    )
    signed_data = (
        _sized(signed.signature, 64, "signature")
        + _sized(signed.ecdsa_attestation_key, 64, "attestation key")
        + struct.pack("<HI", signed.certification_data.certificate_data_type, len(qe_data))
        + qe_data
    )
    return out + struct.pack("<I", len(signed_data)) + signed_data + quote.extra_bytes


# What upstream Contrast's manifest validation requires of a TDX entry (internal/manifest referencevalues.go): the TD's
# launch measurement, the SEAM module's, the XFAM and all four RTMRs, each of its exact size. An entry without one of
# them is refused by name; it is never "not checked". The rest is optional and checked when given.
REQUIRED_SIZES = (("MrTd", 48), ("MrSeam", 48), ("Xfam", 8))
RTMR_COUNT, RTMR_SIZE = 4, 48
OPTIONAL_SIZES = {"TdAttributes": 8, "MinimumTeeTcbSvn": 16}


def _hex(entry: dict, key: str, size: int, required: bool = False) -> bytes | None:
    value = entry.get(key)
    if value in (None, ""):
        if required:
            raise ContrastTdxError(f"{key} is missing, and upstream Contrast requires it of every TDX entry")
        return None
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError) as exc:
        raise ContrastTdxError(f"{key} is not hex: {str(value)[:120]!r}") from exc
    if len(raw) != size:
        raise ContrastTdxError(f"{key} has {len(raw)} bytes, not {size}")
    return raw


def _rtmrs(entry: dict) -> tuple:
    rtmrs = entry.get("Rtmrs", entry.get("Rtrms"))  # older manifests spell it Rtrms
    if rtmrs in (None, "", []):
        raise ContrastTdxError("Rtmrs is missing, and upstream Contrast requires all four RTMRs of every TDX entry")
    if not isinstance(rtmrs, list) or len(rtmrs) != RTMR_COUNT:
        raise ContrastTdxError(f"Rtmrs must list {RTMR_COUNT} RTMRs")
    return tuple(_hex({f"Rtmrs[{i}]": value}, f"Rtmrs[{i}]", RTMR_SIZE, required=True) for i, value in enumerate(rtmrs))


def _number(entry: dict, key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ContrastTdxError(f"{key} is not a number: {str(value)[:60]!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise ContrastTdxError(f"{key} is not a number: {value[:60]!r}") from exc
    if not 0 <= number < 1 << 32:
        raise ContrastTdxError(f"{key} is out of range: {number}")
    return number


def entry_policy(entry: dict, report_data: bytes) -> TdxPolicy:
    """The checks one ReferenceValues.tdx entry asks for; ContrastTdxError naming the field when it lacks a required
    one or gives one that cannot be read."""
    required = {key: _hex(entry, key, size, required=True) for key, size in REQUIRED_SIZES}
    optional = {key: _hex(entry, key, size) for key, size in OPTIONAL_SIZES.items()}
    return TdxPolicy(
        mr_td=required["MrTd"],
        rtmrs=_rtmrs(entry),
        mr_seam=required["MrSeam"],
        xfam=required["Xfam"],
        td_attributes=optional["TdAttributes"] or REQUIRED_TD_ATTRIBUTES,
        minimum_tee_tcb_svn=optional["MinimumTeeTcbSvn"],
        minimum_qe_svn=_number(entry, "MinimumQeSvn"),
        minimum_pce_svn=_number(entry, "MinimumPceSvn"),
        report_data=report_data,
    )


def _flag(extension, oid: str) -> bool | None:
    """A BOOLEAN of the SGX extension's configuration; None when the certificate does not carry it."""
    try:
        value = extension.get_value(oid)
    except (ValueError, KeyError):
        return None
    return None if value is None else bytes(value) != b"\x00"


def platform_problems(quote, collateral: str, entry: dict) -> list[str]:
    """The entry's checks of the platform itself: Intel's TCB evaluation number, and the PCK certificate's PIID,
    SGX type and configuration (dynamic platform, SMT), each named with what it found."""
    problems = []
    minimum = _number(entry, "MinTCBEvaluationDataNumber")
    if minimum:
        number = json.loads(json.loads(collateral)["tcb_info"]).get("tcbEvaluationDataNumber", 0)
        if number < minimum:
            problems.append(
                f"min_tcb_evaluation_data_number: Intel's TCB info has evaluation data number {number}, "
                f"below the minimum {minimum} (refresh the collateral)"
            )
    wants = {
        "piid": bool(entry.get("AllowedPIIDs")),
        "integrity": bool(entry.get("MemoryIntegrity")),
        "smt": bool(entry.get("SMTDisabled")),
        "static": bool(entry.get("StaticPlatform")),
    }
    if not any(wants.values()):
        return problems
    try:
        extension = pck_extension(quote)
    except CollateralError as exc:
        return problems + [f"pck_extension: {exc}"]
    if wants["piid"]:
        piid = bytes(extension.platform_instance_id or b"").hex()
        if not isinstance(entry["AllowedPIIDs"], list):
            raise ContrastTdxError("AllowedPIIDs is not a list")
        if piid not in [str(p).lower() for p in entry["AllowedPIIDs"]]:
            problems.append(f"allowed_piids: the platform instance ID {piid or '(none)'} is not in AllowedPIIDs")
    if wants["integrity"] and extension.sgx_type != SGX_TYPE_SCALABLE_WITH_INTEGRITY:
        problems.append(
            f"memory_integrity: the PCK certificate's SGX type is {extension.sgx_type}, not "
            f"{SGX_TYPE_SCALABLE_WITH_INTEGRITY} (scalable with integrity)"
        )
    if wants["smt"] and _flag(extension, SMT_ENABLED_OID) is not False:
        problems.append("smt_disabled: the PCK certificate does not say SMT is disabled")
    if wants["static"] and _flag(extension, DYNAMIC_PLATFORM_OID) is not False:
        problems.append("static_platform: the PCK certificate does not say the platform is static")
    return problems


def _against_entry(quote, collateral: str, entry: dict, report_data: bytes, now, trust_anchor) -> None:
    checks = check_quote(quote, collateral, entry_policy(entry, report_data), now, trust_anchor)
    problems = [f"{c.name}: {c.detail}" for c in checks if c.passed is False] + platform_problems(
        quote, collateral, entry
    )
    if problems:
        raise ContrastTdxError("; ".join(problems))


@raises_only(ContrastTdxError, "the Coordinator's TDX evidence")
def validate(
    raw: bytes,
    spki: bytes,
    nonce: bytes,
    reference_values: list[dict],
    policy_hashes: list[str],
    now: datetime.datetime,
    collateral,
    trust_anchor: bytes | None = None,
) -> dict:
    """``collateral`` is an _intel_pcs.PcsCollateral."""
    if not policy_hashes:
        raise ContrastTdxError(NO_POLICY_HASH)
    if PROTOBUF_IMPORT_ERROR is not None:
        raise ContrastTdxError(f"reading Contrast's TDX attestation needs protobuf: {PROTOBUF_IMPORT_ERROR}")
    try:
        message = tdx_pb2.QuoteV4.FromString(raw)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, whose class depends on the runtime
        raise ContrastTdxError("the attestation document is not go-tdx-guest's QuoteV4 protobuf") from exc
    try:
        quote = parse_quote(abi_bytes(message))
        collateral_json = collateral.tdx(quote)
    except (QuoteFormatError, CollateralError) as exc:
        raise ContrastTdxError(str(exc)) from exc
    report_data = hashlib.sha512(spki + nonce).digest()
    require_an_accepting_entry(
        reference_values,
        lambda entry: _against_entry(quote, collateral_json, entry, report_data, now, trust_anchor),
        ContrastTdxError,
        "tdx",
    )
    host_data = quote.mr_config_id[:32].hex()
    if not any(hmac.compare_digest(host_data, h.lower()) for h in policy_hashes):
        raise ContrastTdxError(f"wrong policy hash for Coordinator: MRCONFIGID holds {host_data}")
    return quote.summary()
