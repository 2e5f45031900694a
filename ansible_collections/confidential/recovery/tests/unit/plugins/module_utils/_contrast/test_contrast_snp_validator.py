# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Contrast's SEV-SNP Coordinator validator end to end, with the software SNP platform: the report rebuilt from
go-sev-guest's protobuf, the chain and AMD's CRL, the manifest's ReferenceValues.snp, the ID-key digest derived from
the measurement and policy, REPORT_DATA bound to the connection and HOST_DATA the Coordinator's policy hash."""

from __future__ import annotations

import pytest
from contrast_documents import POLICY_HASH, coordinator_certificate, reference_entry
from snp_documents import SoftwareSnp

from ansible_collections.confidential.recovery.plugins.module_utils._contrast import _snp as _contrast_snp
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._validators import contrast_validator
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

NONCE = b"c" * 32
PLATFORM = SoftwareSnp()


def validator(entries=None, hashes=(POLICY_HASH,), platform=PLATFORM):
    return contrast_validator(
        "snp", list(hashes), {"snp": entries or [reference_entry()]}, trust_anchor=platform.pem(platform.ark)
    )


def test_a_genuine_coordinator_passes():
    evidence = validator().validate(coordinator_certificate(PLATFORM, NONCE), NONCE)
    assert evidence["variant"] == "snp" and evidence["platform"]["host_data"] == POLICY_HASH
    assert evidence["platform"]["product"] == "Milan"


def test_any_entry_may_accept_the_report():
    entries = [reference_entry(ProductName="Genoa"), reference_entry()]
    validator(entries).validate(coordinator_certificate(PLATFORM, NONCE), NONCE)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("stale nonce", "REPORT_DATA does not bind this connection"),
        ("debug policy", "allows debugging"),
        ("wrong measurement", "the launch measurement is"),
        ("tcb below minimum", "is below the minimum"),
        ("another policy hash", "wrong policy hash for Coordinator"),
        ("id key of another policy", "ID key digest .* is not a trusted one"),
        ("revoked ask", "AMD revoked the VCEK issuer"),
        ("no crl", "AMD.s CRL is needed and did not come with the evidence"),
        ("expired crl", "the AMD CRL expired"),
        ("chip not allowed", "is not in AllowedChipIDs"),
        ("platform feature not allowed", "the platform enables SMTEnabled"),
        ("apeip", "APEIP"),
        ("mitigation vector", "MinimumMitigationVector"),
        ("report signature", "signature does not verify"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(tamper, message):
    entries, hashes, kwargs, nonce = None, (POLICY_HASH,), {}, NONCE
    if tamper == "stale nonce":
        nonce = b"s" * 32
    elif tamper == "debug policy":
        kwargs["policy"] = 0x30000 | 1 << 19
    elif tamper == "wrong measurement":
        entries = [reference_entry(TrustedMeasurement="00" * 48)]
    elif tamper == "tcb below minimum":
        entries = [
            reference_entry(
                MinimumTCB={"BootloaderVersion": 3, "TEEVersion": 0, "SNPVersion": 9, "MicrocodeVersion": 115}
            )
        ]
    elif tamper == "another policy hash":
        hashes = ("ab" * 32,)
    elif tamper == "id key of another policy":
        kwargs["policy"] = 0x20000  # SMT off: the digest is derived for another policy than the report's ID block
        entries = [reference_entry(GuestPolicy={"SMT": True})]
    elif tamper == "revoked ask":
        kwargs["crl"] = PLATFORM.crl(revoked_serials=[PLATFORM.ask.serial_number])
    elif tamper == "no crl":
        kwargs["crl"] = None
    elif tamper == "expired crl":
        kwargs["crl"] = PLATFORM.crl(next_update_days=-1)
    elif tamper == "chip not allowed":
        entries = [reference_entry(AllowedChipIDs=["00" * 64])]
    elif tamper == "platform feature not allowed":
        entries = [reference_entry(PlatformInfo={"SMTEnabled": False})]
    elif tamper == "apeip":
        entries = [reference_entry(APEIP="0080b004")]
    elif tamper == "report signature":
        kwargs["flip_signature"] = True
    elif tamper == "mitigation vector":
        entries = [reference_entry(MinimumMitigationVector=1)]
    with pytest.raises(AttestationFailed, match=message):
        validator(entries, hashes).validate(coordinator_certificate(PLATFORM, nonce, **kwargs), NONCE)


def test_amds_roots_refuse_a_platform_that_is_not_amds():
    with pytest.raises(
        AttestationFailed, match="the SEV-Milan that came with the evidence: the signature does not verify"
    ):
        contrast_validator("snp", [POLICY_HASH], {"snp": [reference_entry()]}).validate(
            coordinator_certificate(PLATFORM, NONCE), NONCE
        )


def test_an_expired_vcek_is_refused():
    platform = SoftwareSnp(vcek_days=(-400, -1))
    with pytest.raises(AttestationFailed, match="the VCEK is valid from"):
        validator(platform=platform).validate(coordinator_certificate(platform, NONCE), NONCE)


@pytest.mark.parametrize("field", ["TrustedMeasurement", "ProductName", "MinimumTCB"])
def test_an_entry_without_a_required_field_is_refused_and_the_message_names_it(field):
    incomplete = reference_entry()
    del incomplete[field]
    with pytest.raises(AttestationFailed, match=f"{field} is missing, and upstream Contrast requires"):
        validator([incomplete]).validate(coordinator_certificate(PLATFORM, NONCE), NONCE)


@pytest.mark.parametrize("part", ["BootloaderVersion", "TEEVersion", "SNPVersion", "MicrocodeVersion"])
def test_a_minimum_tcb_without_one_of_its_parts_is_refused(part):
    incomplete = reference_entry()
    incomplete["MinimumTCB"] = {k: v for k, v in incomplete["MinimumTCB"].items() if k != part}
    with pytest.raises(AttestationFailed, match=f"MinimumTCB.{part} is missing"):
        validator([incomplete]).validate(coordinator_certificate(PLATFORM, NONCE), NONCE)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"TrustedMeasurement": "ab" * 47}, "TrustedMeasurement has 47 bytes, not 48"),
        ({"GuestPolicy": ["Debug"]}, "GuestPolicy is not a JSON object"),
        ({"GuestPolicy": {"ABIMinor": "x"}}, "entry 0 is malformed"),
        ({"PlatformInfo": 3}, "entry 0 is malformed"),
    ],
)
def test_an_entry_with_an_unreadable_field_is_refused(changes, message):
    with pytest.raises(AttestationFailed, match=message):
        validator([reference_entry(**changes)]).validate(coordinator_certificate(PLATFORM, NONCE), NONCE)


def test_without_a_coordinator_policy_hash_nothing_is_accepted():
    with pytest.raises(NotImplementedError, match="no Coordinator policy hash"):
        validator(hashes=()).validate(coordinator_certificate(PLATFORM, NONCE), NONCE)
    with pytest.raises(
        _contrast_snp.ContrastSnpError, match="no Coordinator policy hash"
    ):  # the check itself refuses too
        _contrast_snp.validate(b"", b"spki", NONCE, [{}], [], now=None, collateral=None)
