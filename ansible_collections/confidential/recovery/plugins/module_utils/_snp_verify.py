# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Verify an SEV-SNP report: its signature by the VCEK/VLEK, then the checks of google/go-sev-guest's
validate.SnpAttestation that the caller's policy turns on. Every failed check is reported, not only the first."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from ._amd_chain import VCEK, VLEK, SigningKey
from ._snp_report import (
    POLICY_CXL_ALLOW, POLICY_DEBUG, POLICY_MIGRATE_MA, POLICY_SMT, SIGNER_VCEK, SIGNER_VLEK, SnpReport, Tcb,
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
        raise SnpVerificationError(f"the report says signing key {report.signing_key}, but a {key.kind.upper()} came with it")
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    try:
        key.public_key.verify(signature, report.signed_bytes, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature as exc:
        raise SnpVerificationError(f"the report's signature does not verify with the {key.kind.upper()}") from exc


def _policy_problems(report: SnpReport, policy: SnpPolicy) -> list[str]:
    problems = []
    for bit, allowed, name in ((POLICY_DEBUG, policy.allow_debug, "debugging"),
                               (POLICY_MIGRATE_MA, policy.allow_migrate_ma, "a migration agent"),
                               (POLICY_SMT, policy.allow_smt, "SMT"),
                               (POLICY_CXL_ALLOW, policy.allow_cxl, "CXL")):
        if report.policy_has(bit) and not allowed:
            problems.append(f"the guest policy {report.policy:#x} allows {name}")
    return problems


def _tcb_problems(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> list[str]:
    problems = []
    if report.reported_tcb != key.tcb:
        problems.append(f"the reported TCB ({report.reported_tcb}) is not the {key.kind.upper()}'s ({key.tcb})")
    if not report.current_tcb.at_least(key.tcb):
        problems.append(f"the {key.kind.upper()}'s TCB ({key.tcb}) is newer than the current TCB ({report.current_tcb})")
    if policy.permit_provisional_firmware:
        if not report.current_tcb.at_least(report.committed_tcb):
            problems.append(f"the committed TCB ({report.committed_tcb}) is newer than the current ({report.current_tcb})")
    elif report.committed_tcb != report.current_tcb:
        problems.append(f"provisional firmware: committed TCB {report.committed_tcb}, current {report.current_tcb}")
    if policy.minimum_tcb and not report.reported_tcb.at_least(policy.minimum_tcb):
        problems.append(f"the reported TCB ({report.reported_tcb}) is below the minimum ({policy.minimum_tcb})")
    if policy.minimum_launch_tcb and not report.launch_tcb.at_least(policy.minimum_launch_tcb):
        problems.append(f"the launch TCB ({report.launch_tcb}) is below the minimum ({policy.minimum_launch_tcb})")
    return problems


def _equal(actual: bytes, expected: bytes | None) -> bool:
    return expected is None or hmac.compare_digest(actual, expected)


def _binding_problems(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> list[str]:
    problems = []
    if policy.vmpl is not None and report.vmpl != policy.vmpl:
        problems.append(f"the report comes from VMPL {report.vmpl}, not {policy.vmpl}")
    if not _equal(report.report_data, policy.report_data):
        problems.append("REPORT_DATA does not bind this connection (a replayed or foreign report)")
    if not _equal(report.host_data, policy.host_data):
        problems.append(f"HOST_DATA is {report.host_data.hex()}, not {policy.host_data.hex()}")
    if not _equal(report.measurement, policy.measurement):
        problems.append(f"the launch measurement is {report.measurement.hex()}, not {policy.measurement.hex()}")
    if key.kind == VCEK and any(report.chip_id) and not hmac.compare_digest(report.chip_id, key.hw_id):
        problems.append("the report's CHIP_ID is not the VCEK's hardware ID: the VCEK belongs to another chip")
    if policy.require_id_block and not any(hmac.compare_digest(report.id_key_digest, digest)
                                           for digest in policy.trusted_id_key_digests):
        problems.append(f"the ID key digest {report.id_key_digest.hex()} is not a trusted one")
    return problems


def verify_report(report: SnpReport, key: SigningKey, policy: SnpPolicy) -> None:
    """The signature first; then every check, all failures in one message."""
    verify_signature(report, key)
    problems = _policy_problems(report, policy) + _tcb_problems(report, key, policy) + _binding_problems(report, key, policy)
    if problems:
        raise SnpVerificationError("SEV-SNP report rejected: " + "; ".join(problems))
