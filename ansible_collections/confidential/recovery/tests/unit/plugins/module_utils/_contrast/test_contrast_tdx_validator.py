# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Contrast's TDX Coordinator validator end to end: go-tdx-guest's QuoteV4 protobuf rebuilt into the quote, checked
against the manifest's ReferenceValues.tdx; REPORTDATA binds the connection, MRCONFIGID holds the policy hash.
Quotes of the software platform are re-signed under a test root, so a passing TCB evaluation is stood in for;
test_tdx.py runs that evaluation on Intel's real collateral."""

from __future__ import annotations

import contrast_documents
import pytest
from contrast_documents import POLICY_HASH, coordinator_tdx_certificate
from contrast_tdx_evidence import GENUINE, NONCE, PLATFORM, entry, validator
from tdx_documents import QUOTE, flip_quote_signature

from ansible_collections.confidential.recovery.plugins.module_utils._contrast import _tdx as _contrast_tdx
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._tdx import abi_bytes
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._validators import contrast_validator
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed


def test_the_protobuf_rebuilds_the_exact_quote():
    signed_end = 0x27C + int.from_bytes(QUOTE[0x278:0x27C], "little")
    assert abi_bytes(contrast_documents.quote_proto(QUOTE)) == QUOTE[:signed_end]  # the sample's extra bytes aside


def test_a_genuine_coordinator_passes(tdx_collateral, tcb_up_to_date):
    evidence = validator(tdx_collateral).validate(coordinator_tdx_certificate(PLATFORM, NONCE), NONCE)
    assert evidence["variant"] == "tdx" and evidence["platform"]["mr_config_id"].startswith(POLICY_HASH)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("stale nonce", "report_data: report_data is"),
        ("wrong mrtd", "mr_td: mr_td is"),
        ("wrong rtmr", "rtmr1: rtmr1 is"),
        ("another policy hash", "wrong policy hash for Coordinator"),
        ("debug attributes", "allow debugging"),
        ("tee tcb svn below minimum", "below the minimum"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(tdx_collateral, tcb_up_to_date, tamper, message):
    entries, hashes, nonce, changes = None, (POLICY_HASH,), NONCE, None
    if tamper == "stale nonce":
        nonce = b"s" * 32
    elif tamper == "wrong mrtd":
        entries = [entry(MrTd="00" * 48)]
    elif tamper == "wrong rtmr":
        entries = [entry(Rtmrs=[GENUINE.rtmrs[0].hex(), "11" * 48] + [r.hex() for r in GENUINE.rtmrs[2:]])]
    elif tamper == "another policy hash":
        hashes = ("ab" * 32,)
    elif tamper == "debug attributes":
        changes = {0xA8: bytes.fromhex("0100001000000000")}
    elif tamper == "tee tcb svn below minimum":
        entries = [entry(MinimumTeeTcbSvn="ff" + "00" * 15)]
    with pytest.raises(AttestationFailed, match=message):
        validator(tdx_collateral, entries, hashes).validate(
            coordinator_tdx_certificate(PLATFORM, nonce, changes=changes), NONCE
        )


def test_without_collateral_the_coordinator_is_refused(tmp_path):
    with pytest.raises(AttestationFailed, match="no collateral for FMSPC B0C06F000000"):
        validator(tmp_path).validate(coordinator_tdx_certificate(PLATFORM, NONCE), NONCE)


REAL_PIID = "07828474603e7019dc930775ffe8cdd2"  # the platform instance ID in the real quote's PCK extension


@pytest.mark.parametrize(
    "changes",
    [
        {"AllowedPIIDs": [REAL_PIID.upper(), "00" * 16]},
        {"MinTCBEvaluationDataNumber": 17},
        {"TdAttributes": None},  # a newer manifest: the required attributes are Contrast's fixed SEPT_VE_DISABLE
    ],
)
def test_platform_requirements_the_platform_meets_pass(tdx_collateral, tcb_up_to_date, changes):
    values = {k: v for k, v in entry(**changes).items() if v is not None}
    evidence = validator(tdx_collateral, [values]).validate(coordinator_tdx_certificate(PLATFORM, NONCE), NONCE)
    assert evidence["variant"] == "tdx"


@pytest.mark.parametrize(
    ("changes", "quote_changes", "message"),
    [
        (
            {"AllowedPIIDs": ["00" * 16]},
            None,
            f"allowed_piids: the platform instance ID {REAL_PIID} is not in AllowedPIIDs",
        ),
        ({"MinTCBEvaluationDataNumber": 18}, None, "evaluation data number 17, below the minimum 18"),
        ({"MemoryIntegrity": True}, None, "memory_integrity: the PCK certificate's SGX type is 1"),
        ({"SMTDisabled": True}, None, "smt_disabled"),
        ({"StaticPlatform": True}, None, "static_platform"),
        ({}, {0xA8: bytes.fromhex("0000001040000000")}, "td_attributes: td_attributes is 0000001040000000"),  # PKS on
    ],
)
def test_platform_requirements_the_platform_misses_are_named(
    tdx_collateral, tcb_up_to_date, changes, quote_changes, message
):
    with pytest.raises(AttestationFailed, match=message):
        validator(tdx_collateral, [entry(**changes)]).validate(
            coordinator_tdx_certificate(PLATFORM, NONCE, changes=quote_changes), NONCE
        )


def test_a_quote_whose_signature_is_broken_is_refused(tdx_collateral, tcb_up_to_date):
    with pytest.raises(AttestationFailed, match="quote_signature"):
        validator(tdx_collateral).validate(
            coordinator_tdx_certificate(PLATFORM, NONCE, after_signing=flip_quote_signature), NONCE
        )


def test_an_out_of_date_tcb_is_refused(tdx_collateral, tcb_out_of_date):
    with pytest.raises(AttestationFailed, match="OutOfDate"):
        validator(tdx_collateral).validate(coordinator_tdx_certificate(PLATFORM, NONCE), NONCE)


def test_a_platform_under_another_root_than_intels_is_refused(tdx_collateral, tcb_up_to_date):
    with pytest.raises(AttestationFailed, match="pck_chain"):
        contrast_validator("tdx", [POLICY_HASH], {"tdx": [entry()]}, collateral_dir=str(tdx_collateral)).validate(
            coordinator_tdx_certificate(PLATFORM, NONCE), NONCE
        )


def genuine_evidence():
    return coordinator_tdx_certificate(PLATFORM, NONCE)


@pytest.mark.parametrize("field", ["MrTd", "MrSeam", "Xfam", "Rtmrs"])
def test_an_entry_without_a_required_field_is_refused_and_the_message_names_it(tdx_collateral, tcb_up_to_date, field):
    incomplete = entry()
    del incomplete[field]
    with pytest.raises(AttestationFailed, match=f"{field} is missing, and upstream Contrast requires"):
        validator(tdx_collateral, [incomplete]).validate(genuine_evidence(), NONCE)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"Rtmrs": [r.hex() for r in GENUINE.rtmrs[:3]]}, "Rtmrs must list 4 RTMRs"),
        (
            {"Rtmrs": [GENUINE.rtmrs[0].hex(), "", GENUINE.rtmrs[2].hex(), GENUINE.rtmrs[3].hex()]},
            r"Rtmrs\[1\] is missing",
        ),
        ({"MrTd": "00" * 47}, "MrTd has 47 bytes, not 48"),
        ({"Xfam": 7}, "Xfam is not hex"),
        ({"MinimumQeSvn": [1]}, "MinimumQeSvn is not a number"),
    ],
)
def test_an_entry_with_an_incomplete_or_unreadable_field_is_refused(tdx_collateral, tcb_up_to_date, changes, message):
    with pytest.raises(AttestationFailed, match=message):
        validator(tdx_collateral, [entry(**changes)]).validate(genuine_evidence(), NONCE)


def test_the_empty_entry_accepts_nothing(tdx_collateral, tcb_up_to_date):
    with pytest.raises(AttestationFailed, match="entry 0: MrTd is missing"):
        validator(tdx_collateral, [{}]).validate(genuine_evidence(), NONCE)


def test_an_entry_that_is_not_an_object_accepts_nothing(tdx_collateral, tcb_up_to_date):
    with pytest.raises(AttestationFailed, match="entry 0: not a JSON object"):
        validator(tdx_collateral, [["MrTd"]]).validate(genuine_evidence(), NONCE)


def test_without_a_coordinator_policy_hash_nothing_is_accepted(tdx_collateral, tcb_up_to_date):
    with pytest.raises(NotImplementedError, match="no Coordinator policy hash"):
        validator(tdx_collateral, hashes=()).validate(genuine_evidence(), NONCE)
    with pytest.raises(
        _contrast_tdx.ContrastTdxError, match="no Coordinator policy hash"
    ):  # the check itself refuses too
        _contrast_tdx.validate(b"", b"spki", NONCE, [{}], [], now=None, collateral=None)
