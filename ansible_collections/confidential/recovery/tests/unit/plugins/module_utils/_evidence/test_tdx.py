# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Intel TDX: a real v4 quote and its collateral (fixtures/tdx/README.md) at a pinned date, and tampered forms."""

from __future__ import annotations

import datetime

import pytest
from tdx_documents import COLLATERAL, COLLATERAL_NOW, OUTDATED_QUOTE, QUOTE, SoftwareTdx

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import (
    QuoteFormatError,
    parse_quote,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_verify import (
    TdxPolicy,
    check_quote,
)

GENUINE = parse_quote(QUOTE)
NOW = datetime.datetime.now(datetime.UTC)  # the software platform's certificates are made for today


def verdicts(checks) -> dict[str, str]:
    return {c.name: {True: "passed", False: "failed", None: "not checked"}[c.passed] for c in checks}


def details(checks) -> str:
    return "; ".join(c.detail for c in checks if c.passed is False)


def test_the_quote_parses_as_go_tdx_guest_reads_it():
    assert GENUINE.version == 4 and GENUINE.tee_type == 0x81
    assert GENUINE.qe_vendor_id.hex() == "939a7233f79c4ca9940a0db3957f0607"
    assert GENUINE.xfam.hex() == "e702060000000000" and GENUINE.td_attributes.hex() == "0000001000000000"
    assert GENUINE.mr_td.hex().startswith("91eb2b44d141d4ec") and len(GENUINE.rtmrs) == 4
    assert GENUINE.qe_report.isv_prod_id == 2 and len(GENUINE.qe_auth_data) == 32


def test_the_genuine_quote_passes_every_check_at_its_date():
    policy = TdxPolicy(
        mr_td=GENUINE.mr_td,
        rtmrs=GENUINE.rtmrs,
        mr_seam=GENUINE.mr_seam,
        xfam=GENUINE.xfam,
        td_attributes=GENUINE.td_attributes,
        report_data=GENUINE.report_data,
        minimum_tee_tcb_svn=GENUINE.tee_tcb_svn,
        minimum_qe_svn=0,
        minimum_pce_svn=0,
    )
    checks = check_quote(GENUINE, COLLATERAL, policy, COLLATERAL_NOW)
    assert "failed" not in verdicts(checks).values(), details(checks)
    assert [name for name, verdict in verdicts(checks).items() if verdict == "not checked"] == [
        "mr_config_id",
        "mr_owner",
        "mr_owner_config",
    ]
    assert next(c for c in checks if c.name == "tcb_status").detail == "UpToDate"


def test_a_flipped_signature_byte_fails_the_quote_signature():
    tampered = bytearray(QUOTE)
    tampered[0x27C] ^= 1
    checks = check_quote(parse_quote(bytes(tampered)), COLLATERAL, TdxPolicy(), COLLATERAL_NOW)
    assert verdicts(checks)["quote_signature"] == "failed" and "the quote's signature does not verify" in details(
        checks
    )


def test_a_changed_td_report_fails_the_quote_signature():
    tampered = bytearray(QUOTE)
    tampered[0xB8] ^= 1  # MRTD
    assert (
        verdicts(check_quote(parse_quote(bytes(tampered)), COLLATERAL, TdxPolicy(), COLLATERAL_NOW))["quote_signature"]
        == "failed"
    )


def test_a_chain_that_does_not_reach_intels_root_is_refused():
    platform = SoftwareTdx()
    forged = parse_quote(platform.resign({}))
    checks = check_quote(forged, COLLATERAL, TdxPolicy(), COLLATERAL_NOW)
    assert verdicts(checks) == {
        "pck_chain": "failed",
        **{k: v for k, v in verdicts(checks).items() if k != "pck_chain"},
    }
    assert "is not issued by" in details(checks) and "Intel SGX Root CA" in details(checks)


def test_an_expired_pck_is_refused():
    later = datetime.datetime(2032, 3, 1, tzinfo=datetime.UTC)
    checks = check_quote(GENUINE, COLLATERAL, TdxPolicy(), later)
    assert verdicts(checks)["pck_chain"] == "failed"
    assert "valid from 2025-02-06 to 2032-02-06" in details(checks)


def test_stale_collateral_fails_the_tcb_check():
    checks = check_quote(GENUINE, COLLATERAL, TdxPolicy(), datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC))
    assert verdicts(checks)["tcb_status"] == "failed" and "CrlExpired" in details(checks)


def test_a_version_5_quote_is_refused_by_name():
    with pytest.raises(QuoteFormatError, match="TDX quote version 5 is not supported"):
        parse_quote(OUTDATED_QUOTE)


def test_without_collateral_the_tcb_is_not_silently_skipped():
    checks = check_quote(GENUINE, None, TdxPolicy(), COLLATERAL_NOW)
    assert verdicts(checks)["tcb_status"] == "failed" and "no collateral" in details(checks)


@pytest.mark.parametrize(
    ("policy", "check", "message"),
    [
        (TdxPolicy(mr_td=b"\x01" * 48), "mr_td", "mr_td is 91eb2b44"),
        (TdxPolicy(rtmrs=(None, None, b"\x02" * 48, None)), "rtmr2", "rtmr2 is"),
        (TdxPolicy(report_data=b"\x03" * 64), "report_data", "report_data is"),
        (TdxPolicy(minimum_tee_tcb_svn=bytes([7]) + bytes(15)), "minimum_tee_tcb_svn", "below the minimum 07"),
    ],
)
def test_wrong_reference_values_fail_their_check(policy, check, message):
    checks = check_quote(GENUINE, COLLATERAL, policy, COLLATERAL_NOW)
    assert verdicts(checks)[check] == "failed" and message in details(checks)
    assert verdicts(checks)["quote_signature"] == "passed"


def test_a_debuggable_td_is_refused_unless_allowed():
    platform = SoftwareTdx()
    debug_attributes = bytes.fromhex("0100001000000000")  # DEBUG and SEPT_VE_DISABLE
    quote = parse_quote(platform.resign({0xA8: debug_attributes}))
    refused = check_quote(quote, None, TdxPolicy(), NOW, trust_anchor=platform.root_pem)
    assert verdicts(refused)["pck_chain"] == "passed" and verdicts(refused)["quote_signature"] == "passed"
    assert verdicts(refused)["qe_binding"] == "passed" and verdicts(refused)["td_attributes_allowed"] == "failed"
    assert "allow debugging" in details(refused)
    allowed = check_quote(quote, None, TdxPolicy(allow_debug=True), NOW, trust_anchor=platform.root_pem)
    assert verdicts(allowed)["td_attributes_allowed"] == "passed"


def test_an_xfam_without_sse_is_invalid():
    platform = SoftwareTdx()
    quote = parse_quote(platform.resign({0xB0: bytes.fromhex("0100000000000000")}))
    checks = check_quote(quote, None, TdxPolicy(), NOW, trust_anchor=platform.root_pem)
    assert verdicts(checks)["xfam_valid"] == "failed"


def test_a_qe_report_that_does_not_bind_the_key_is_refused():
    platform = SoftwareTdx()
    resigned = bytearray(platform.resign({}))
    resigned[0x27C + 64] ^= 1  # one bit of the attestation key the QE report binds
    checks = check_quote(parse_quote(bytes(resigned)), None, TdxPolicy(), NOW, trust_anchor=platform.root_pem)
    assert verdicts(checks)["qe_binding"] == "failed"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda q: q[:100], "at least"),
        (lambda q: b"\x05\x00" + q[2:], "version 5"),
        (lambda q: q[:4] + b"\x00\x00\x00\x00" + q[8:], "TEE type 0x0"),
        (lambda q: q[:0x400], "shorter than its signature data"),
    ],
)
def test_malformed_quotes_are_refused_clearly(mutate, message):
    with pytest.raises(QuoteFormatError, match=message):
        parse_quote(mutate(QUOTE))
