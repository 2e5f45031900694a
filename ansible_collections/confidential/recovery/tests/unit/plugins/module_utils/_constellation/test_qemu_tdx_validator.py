# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The qemu-tdx validator end to end: a TDX quote whose REPORTDATA binds the connection, its collateral from the
collateral directory, and the measurements MRTD (0) and RTMR0-3 (1-4). Quotes from the software platform are
re-signed under a test root, so where a test needs a passing TCB evaluation it stands in for dcap-qvl's verdict;
the evaluation itself runs on Intel's real collateral in test_tdx.py."""

from __future__ import annotations

import hashlib
import json

import pytest
from qemu_tdx_evidence import FMSPC, MRTD, OID, PLATFORM, certificate, conf, validator
from vtpm_documents import NONCE, atls_certificate, b64

from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed


def test_a_bound_quote_with_the_expected_mrtd_passes(tdx_collateral, tcb_up_to_date):
    evidence = validator(tdx_collateral).validate(certificate(), NONCE)
    assert evidence["variant"] == "qemu-tdx" and evidence["measurements"]["0"] == MRTD.hex()
    assert (
        set(evidence["measurements"]) == {"0", "1", "2", "3", "4"} and evidence["platform"]["tcb_status"] == "UpToDate"
    )


def test_the_real_tcb_evaluation_refuses_a_quote_intel_did_not_sign(tdx_collateral):
    with pytest.raises(AttestationFailed, match="collateral or TCB evaluation failed") as failure:
        validator(tdx_collateral).validate(certificate(), NONCE)
    assert failure.value.check == "tcb_status"


@pytest.mark.parametrize(
    ("tamper", "check", "message"),
    [
        ("wrong measurement", "measurements", "untrusted measurement value .* at index 0"),
        ("stale nonce", "report_data", "REPORTDATA does not bind this connection"),
        ("debug attributes", "quote", "allow debugging"),
        ("no collateral", "tcb_status", f"no collateral for FMSPC {FMSPC}"),
    ],
)
def test_each_tampered_form_fails_its_check(tdx_collateral, tcb_up_to_date, tmp_path_factory, tamper, check, message):
    config, nonce, changes, directory = None, NONCE, None, tdx_collateral
    if tamper == "wrong measurement":
        config = conf(b"\x01" * 48)
    elif tamper == "stale nonce":
        nonce = b"s" * 32
    elif tamper == "debug attributes":
        changes = {0xA8: bytes.fromhex("0100001000000000")}
    elif tamper == "no collateral":
        directory = tmp_path_factory.mktemp("empty")
    with pytest.raises(AttestationFailed, match=message) as failure:
        validator(directory, config).validate(certificate(nonce=nonce, changes=changes), NONCE)
    assert failure.value.check == check


def test_a_flipped_quote_signature_byte_fails_the_quote_check(tdx_collateral, tcb_up_to_date):
    def make_document(user_data: bytes) -> bytes:
        quote = bytearray(PLATFORM.resign({0x238: hashlib.sha256(user_data + NONCE).digest().ljust(64, b"\x00")}))
        quote[0x27C] ^= 1
        return json.dumps({"RawQuote": b64(bytes(quote)), "UserData": b64(user_data)}).encode()

    with pytest.raises(AttestationFailed, match="the quote's signature does not verify"):
        validator(tdx_collateral).validate(atls_certificate(OID, make_document), NONCE)
