# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""attestation_info's backend: saved evidence verified offline, each check with its own verdict."""

from __future__ import annotations

import base64
import datetime

import pytest
import yaml
from fixture_files import FIXTURES as FIXTURE_ROOT
from snp_documents import SoftwareSnp
from tdx_documents import COLLATERAL, COLLATERAL_NOW, QUOTE
from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._backends._attestation_info import (
    EvidenceError,
    evaluate_certificate,
    evaluate_snp_report,
    evaluate_tdx_quote,
    snp_policy,
    tdx_policy,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote

FIXTURES = FIXTURE_ROOT / "snp"
REPORT = (FIXTURES / "milan-report.bin").read_bytes()
VCEK = (FIXTURES / "milan-vcek.der").read_bytes()
NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
TDX = parse_quote(QUOTE)
REFERENCE = {
    "vmpl": 0,
    "allow_debug": False,
    "allow_migrate_ma": False,
    "allow_smt": True,
    "permit_provisional_firmware": True,
}


def verdicts(result) -> dict[str, str]:
    return {check["check"]: check["verdict"] for check in result["checks"]}


def test_a_real_report_is_verified_offline_and_each_check_has_its_verdict():
    reference = dict(
        REFERENCE,
        report_data=(bytes.fromhex("0102030405") + bytes(59)).hex(),
        minimum_tcb={"bootloader": 2, "tee": 0, "snp": 5, "microcode": 68},
    )
    result = evaluate_snp_report(REPORT, VCEK, None, None, snp_policy(reference), NOW, "saved")

    checks = verdicts(result)
    assert checks["certificate_chain"] == "passed" and checks["signature"] == "passed"
    assert checks["report_data"] == "passed" and checks["minimum_tcb"] == "passed" and checks["chip_id"] == "passed"
    assert checks["guest_policy"] == "failed", "go-sev-guest's fixture allows debugging"
    assert checks["host_data"] == "not checked" and checks["id_key_digest"] == "not checked"
    assert result["verdict"] == "failed" and "guest_policy: the guest policy 0xb0000 allows debugging" in result["msg"]
    assert result["evidence"]["product"] == "Milan" and result["evidence"]["reported_tcb"]["snp"] == 5


def test_the_report_may_be_base64_and_debugging_may_be_allowed_explicitly():
    result = evaluate_snp_report(
        base64.b64encode(REPORT), VCEK, None, None, snp_policy(dict(REFERENCE, allow_debug=True)), NOW, "saved"
    )
    assert result["verdict"] == "passed", result["msg"]


def test_after_the_vcek_expired_the_chain_check_fails_and_nothing_else_is_claimed():
    later = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    result = evaluate_snp_report(REPORT, VCEK, None, None, snp_policy(REFERENCE), later, "saved")
    assert verdicts(result) == {"report_format": "passed", "certificate_chain": "failed"}
    assert "the VCEK is valid from 2022-09-24 to 2029-09-24" in result["msg"]


def test_a_flipped_signature_byte_fails_the_signature_check():
    tampered = bytearray(REPORT)
    tampered[0x2A0] ^= 1
    result = evaluate_snp_report(
        bytes(tampered), VCEK, None, None, snp_policy(dict(REFERENCE, allow_debug=True)), NOW, "x"
    )
    assert verdicts(result)["signature"] == "failed" and result["verdict"] == "failed"


def test_a_test_platform_needs_its_root_as_explicit_trust_anchor():
    platform = SoftwareSnp()
    report = platform.report(b"bound")
    ask = platform.pem(platform.ask)
    refused = evaluate_snp_report(report, platform.pem(platform.vcek), ask, None, snp_policy(REFERENCE), NOW, "lab")
    assert verdicts(refused)["certificate_chain"] == "failed"
    accepted = evaluate_snp_report(
        report,
        platform.pem(platform.vcek),
        ask,
        platform.pem(platform.ark),
        snp_policy(dict(REFERENCE, minimum_tcb={"snp": 9})),
        datetime.datetime.now(datetime.UTC),
        "lab",
    )
    assert verdicts(accepted)["certificate_chain"] == "passed"
    assert verdicts(accepted)["minimum_tcb"] == "failed" and "below the minimum" in accepted["msg"]


def test_a_truncated_report_fails_its_format_check():
    result = evaluate_snp_report(REPORT[:100], VCEK, None, None, snp_policy(REFERENCE), NOW, "x")
    assert result["checks"] == [
        {"check": "report_format", "verdict": "failed", "detail": "an SNP report has 1184 bytes, got 100"}
    ]


def _qemu_conf(pcr4: bytes) -> dict:
    return yaml.safe_load(
        yaml.safe_dump(
            {"attestation": {"qemuVTPM": {"measurements": {4: {"expected": pcr4.hex(), "warnOnly": False}}}}}
        )
    )


def test_a_saved_certificate_passes_every_vtpm_check_and_shows_its_measurements():
    result = evaluate_certificate(
        constellation_validator("qemu-vtpm", _qemu_conf(PCRS[4])), node_certificate(), NONCE, "c"
    )
    assert result["verdict"] == "passed" and set(verdicts(result).values()) == {"passed"}
    assert result["evidence"]["measurements"]["4"] == PCRS[4].hex()


def test_a_wrong_measurement_fails_that_check_and_the_ones_before_it_passed():
    result = evaluate_certificate(
        constellation_validator("qemu-vtpm", _qemu_conf(b"\x04" * 32)), node_certificate(), NONCE, "c"
    )
    checks = verdicts(result)
    assert checks["quote"] == "passed" and checks["measurements"] == "failed" and checks["binding"] == "not checked"
    assert f"untrusted measurement value {PCRS[4].hex()} at index 4" in result["msg"]


def test_a_certificate_for_another_nonce_fails_the_quote_check():
    result = evaluate_certificate(
        constellation_validator("qemu-vtpm", _qemu_conf(PCRS[4])), node_certificate(), b"x" * 32, "c"
    )
    assert verdicts(result)["quote"] == "failed" and "another nonce" in result["msg"]


def test_a_saved_tdx_quote_and_its_collateral_are_verified_offline():
    reference = {
        "mr_td": TDX.mr_td.hex(),
        "rtmrs": [TDX.rtmrs[0].hex()],
        "allow_debug": False,
        "accepted_tcb_statuses": ["UpToDate"],
    }
    result = evaluate_tdx_quote(QUOTE, COLLATERAL, None, tdx_policy(reference), COLLATERAL_NOW, "saved")
    assert result["verdict"] == "passed", result["msg"]
    checks = verdicts(result)
    assert checks["quote_format"] == checks["pck_chain"] == checks["tcb_status"] == checks["rtmr0"] == "passed"
    assert checks["rtmr1"] == "not checked"
    assert result["evidence"]["mr_td"] == TDX.mr_td.hex() and result["evidence"]["variant"] == "tdx"


def test_a_tdx_reference_value_that_is_not_hex_is_named():
    with pytest.raises(EvidenceError, match="tdx_reference.mr_td is not hex"):
        tdx_policy({"mr_td": "zz", "allow_debug": False, "accepted_tcb_statuses": ["UpToDate"]})


def test_a_truncated_tdx_quote_fails_its_format_check():
    result = evaluate_tdx_quote(
        QUOTE[:50],
        COLLATERAL,
        None,
        tdx_policy({"allow_debug": False, "accepted_tcb_statuses": ["UpToDate"]}),
        COLLATERAL_NOW,
        "saved",
    )
    assert [c["check"] for c in result["checks"]] == ["quote_format"] and result["verdict"] == "failed"


def test_a_minimum_tcb_that_is_not_a_number_is_named():
    with pytest.raises(EvidenceError, match="snp_reference.minimum_tcb.snp must be a number, got 'eight'"):
        snp_policy(dict(REFERENCE, minimum_tcb={"snp": "eight"}))
    with pytest.raises(EvidenceError, match="snp_reference.minimum_launch_tcb.microcode must be from 0 to 255"):
        snp_policy(dict(REFERENCE, minimum_launch_tcb={"microcode": 300}))
