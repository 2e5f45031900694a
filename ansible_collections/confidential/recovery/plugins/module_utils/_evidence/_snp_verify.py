# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Verify an SEV-SNP report: its signature by the VCEK/VLEK, then the checks of google/go-sev-guest's
validate.SnpAttestation that the caller's policy turns on. Every failed check is reported, not only the first."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from ._amd_chain import VCEK, VLEK, SigningKey
from ._checks import Check, check
from ._snp_report import (
    POLICY_CXL_ALLOW,
    POLICY_DEBUG,
    POLICY_MIGRATE_MA,
    POLICY_SMT,
    SIGNER_VCEK,
    SIGNER_VLEK,
    SnpReport,
    Tcb,
)

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass


class SnpVerificationError(Exception):
    """The report is not signed by the key, or fails the policy; the message lists every reason."""


@dataclass(frozen=True)
class SnpPolicy:
    """What a verifier demands of a report. The defaults are the strictest that upstream's variants share."""

    allow_debug: bool = False
    allow_migrate_ma: bool = False
    allow_smt: bool = True
    allow_cxl: bool = False
    vmpl: int | None = 0
    minimum_tcb: Tcb | None = None
    minimum_launch_tcb: Tcb | None = None
    permit_provisional_firmware: bool = True
    report_data: bytes | None = None
    host_data: bytes | None = None
    measurement: bytes | None = None
    trusted_id_key_digests: tuple[bytes, ...] = field(default_factory=tuple)
    require_id_block: bool = False


def verify_signature(report: SnpReport, key: SigningKey) -> None:
    expected = {VCEK: SIGNER_VCEK, VLEK: SIGNER_VLEK}[key.kind]
    if report.signing_key != expected:
        raise SnpVerificationError(
            f"the report says signing key {report.signing_key}, but a {key.kind.upper()} came with it"
        )
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    try:
        key.public_key.verify(signature, report.signed_bytes, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature as exc:
        raise SnpVerificationError(f"the report's signature does not verify with the {key.kind.upper()}") from exc


def _policy_checks(report: SnpReport, policy: SnpPolicy) -> list[Check]:
    problems = []
    for bit, allowed, name in (
        (POLICY_DEBUG, policy.allow_debug, "debugging"),
        (POLICY_MIGRATE_MA, policy.allow_migrate_ma, "a migration agent"),
        (POLICY_SMT, policy.allow_smt, "SMT"),
        (POLICY_CXL_ALLOW, policy.allow_cxl, "CXL"),
    ):
        if report.policy_has(bit) and not allowed:
            problems.append(f"the guest policy {report.policy:#x} allows {name}")
    return [check("guest_policy", "; ".join(problems) or None)]


def _tcb_checks(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> list[Check]:
    kind = key.kind.upper()
    if policy.permit_provisional_firmware:
        committed = (
            None
            if report.current_tcb.at_least(report.committed_tcb)
            else (f"the committed TCB ({report.committed_tcb}) is newer than the current ({report.current_tcb})")
        )
    else:
        committed = (
            None
            if report.committed_tcb == report.current_tcb
            else (f"provisional firmware: committed TCB {report.committed_tcb}, current {report.current_tcb}")
        )
    minimum, launch = policy.minimum_tcb, policy.minimum_launch_tcb
    return [
        check(
            "reported_tcb",
            None
            if report.reported_tcb == key.tcb
            else f"the reported TCB ({report.reported_tcb}) is not the {kind}'s ({key.tcb})",
        ),
        check(
            "signing_key_tcb",
            None
            if report.current_tcb.at_least(key.tcb)
            else f"the {kind}'s TCB ({key.tcb}) is newer than the current TCB ({report.current_tcb})",
        ),
        check("committed_tcb", committed),
        check(
            "minimum_tcb",
            None
            if not minimum or report.reported_tcb.at_least(minimum)
            else f"the reported TCB ({report.reported_tcb}) is below the minimum ({minimum})",
            asked=bool(minimum),
        ),
        check(
            "minimum_launch_tcb",
            None
            if not launch or report.launch_tcb.at_least(launch)
            else f"the launch TCB ({report.launch_tcb}) is below the minimum ({launch})",
            asked=bool(launch),
        ),
    ]


def _equal(actual: bytes, expected: bytes | None) -> bool:
    return expected is None or hmac.compare_digest(actual, expected)


def _binding_checks(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> list[Check]:
    chip_problem = None
    if key.kind == VCEK and any(report.chip_id) and not hmac.compare_digest(report.chip_id, key.hw_id):
        chip_problem = "the report's CHIP_ID is not the VCEK's hardware ID: the VCEK belongs to another chip"
    trusted_id_key = any(hmac.compare_digest(report.id_key_digest, d) for d in policy.trusted_id_key_digests)
    return [
        check(
            "vmpl",
            None if report.vmpl == policy.vmpl else f"the report comes from VMPL {report.vmpl}, not {policy.vmpl}",
            asked=policy.vmpl is not None,
        ),
        check(
            "report_data",
            None
            if _equal(report.report_data, policy.report_data)
            else "REPORT_DATA does not bind this connection (a replayed or foreign report)",
            asked=policy.report_data is not None,
        ),
        check(
            "host_data",
            None
            if _equal(report.host_data, policy.host_data)
            else f"HOST_DATA is {report.host_data.hex()}, not {(policy.host_data or b'').hex()}",
            asked=policy.host_data is not None,
        ),
        check(
            "measurement",
            None
            if _equal(report.measurement, policy.measurement)
            else f"the launch measurement is {report.measurement.hex()}, not {(policy.measurement or b'').hex()}",
            asked=policy.measurement is not None,
        ),
        check("chip_id", chip_problem),
        check(
            "id_key_digest",
            None if trusted_id_key else f"the ID key digest {report.id_key_digest.hex()} is not a trusted one",
            asked=policy.require_id_block,
        ),
    ]


def check_report(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> list[Check]:
    """Every check with its verdict; the policy checks mean nothing unless ``signature`` passed."""
    try:
        verify_signature(report, key)
        signature = Check("signature", True)
    except SnpVerificationError as exc:
        signature = Check("signature", False, str(exc))
    return (
        [signature]
        + _policy_checks(report, policy)
        + _tcb_checks(report, key, policy)
        + _binding_checks(report, key, policy)
    )


def verify_report(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> None:
    """The signature first; then every check, all failures in one message."""
    signature, *checks = check_report(report, key, policy)
    if not signature.passed:
        raise SnpVerificationError(signature.detail)
    problems = [check.detail for check in checks if check.passed is False]
    if problems:
        raise SnpVerificationError("SEV-SNP report rejected: " + "; ".join(problems))
