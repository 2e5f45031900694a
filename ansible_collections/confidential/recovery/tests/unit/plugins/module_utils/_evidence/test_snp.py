# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""SEV-SNP: a real Milan report and VCEK (fixtures/snp/README.md) against AMD's pinned roots."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fixture_files import FIXTURES as FIXTURE_ROOT

from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _amd_chain
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_chain import (
    ChainError,
    verify_signing_key,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._snp_report import (
    POLICY_DEBUG,
    ReportFormatError,
    Tcb,
    parse_report,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._snp_verify import (
    SnpPolicy,
    SnpVerificationError,
    verify_report,
    verify_signature,
)

FIXTURES = FIXTURE_ROOT / "snp"
REPORT = (FIXTURES / "milan-report.bin").read_bytes()
VCEK = (FIXTURES / "milan-vcek.der").read_bytes()
NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
BOUND = bytes.fromhex("0102030405") + bytes(59)


def test_the_report_parses_as_upstream_describes_it():
    report = parse_report(REPORT)
    assert report.version == 2 and report.vmpl == 0 and report.cpuid is None
    assert report.policy == 0xB0000 and report.policy_has(POLICY_DEBUG)
    assert report.report_data == BOUND
    tcb = report.reported_tcb
    assert (tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode) == (2, 0, 5, 68)


def test_the_vcek_chains_to_the_pinned_milan_root():
    key = verify_signing_key(VCEK, NOW)
    report = parse_report(REPORT)
    assert (key.kind, key.product, key.csp_id) == ("vcek", "Milan", None)
    assert key.tcb == report.reported_tcb, "the KDS TCB extensions decode to the reported TCB"
    assert key.hw_id == report.chip_id


def test_the_signature_verifies_and_a_changed_byte_breaks_it():
    key = verify_signing_key(VCEK, NOW)
    verify_signature(parse_report(REPORT), key)
    tampered = bytearray(REPORT)
    tampered[0x90] ^= 1  # one bit of the launch measurement
    with pytest.raises(SnpVerificationError, match="signature does not verify"):
        verify_signature(parse_report(bytes(tampered)), key)


def test_a_debuggable_guest_is_refused_by_default():
    with pytest.raises(SnpVerificationError, match="allows debugging"):
        verify_report(parse_report(REPORT), verify_signing_key(VCEK, NOW), SnpPolicy(report_data=BOUND))


def test_with_debugging_allowed_the_report_passes_when_bound_to_this_connection():
    policy = SnpPolicy(allow_debug=True, report_data=BOUND)
    verify_report(parse_report(REPORT), verify_signing_key(VCEK, NOW), policy)


def test_every_failed_check_is_named():
    policy = SnpPolicy(report_data=bytes(64), vmpl=1, minimum_tcb=Tcb.from_parts([2, 0, 0, 0, 0, 0, 6, 68]))
    with pytest.raises(SnpVerificationError) as caught:
        verify_report(parse_report(REPORT), verify_signing_key(VCEK, NOW), policy)
    message = str(caught.value)
    for reason in ("allows debugging", "VMPL 0, not 1", "below the minimum", "REPORT_DATA does not bind"):
        assert reason in message, message


def test_an_untrusted_id_key_is_refused_when_an_id_block_is_required():
    policy = SnpPolicy(
        allow_debug=True, report_data=BOUND, require_id_block=True, trusted_id_key_digests=(b"\x01" * 48,)
    )
    with pytest.raises(SnpVerificationError, match="ID key digest"):
        verify_report(parse_report(REPORT), verify_signing_key(VCEK, NOW), policy)


def test_an_expired_vcek_is_refused():
    with pytest.raises(ChainError, match="valid from 2022-09-24 to 2029-09-24"):
        verify_signing_key(VCEK, datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))


def _certificate(subject: str, issuer: str, key, signing_key, pss: bool = True):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if pss:
        return builder.sign(
            signing_key, hashes.SHA384(), rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
        )
    return builder.sign(signing_key, hashes.SHA384())


def test_a_vcek_from_a_look_alike_authority_is_refused():
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = _certificate("SEV-VCEK", "SEV-Milan", ec.generate_private_key(ec.SECP384R1()), impostor)
    with pytest.raises(ChainError, match="the VCEK"):
        verify_signing_key(fake.public_bytes(Encoding.DER), NOW)


def test_an_intermediate_offered_with_the_evidence_must_come_from_the_pinned_root():
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ask = _certificate("SEV-Milan", "ARK-Milan", impostor, impostor)
    with pytest.raises(ChainError, match="came with the evidence"):
        verify_signing_key(VCEK, NOW, intermediate_bytes=ask.public_bytes(Encoding.DER))


def test_turin_is_refused_until_its_tcb_layout_is_confirmed():
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    turin = _certificate("SEV-VCEK", "SEV-Turin", ec.generate_private_key(ec.SECP384R1()), impostor)
    with pytest.raises(ChainError, match="Turin is not supported"):
        verify_signing_key(turin.public_bytes(Encoding.DER), NOW)


def test_a_root_that_does_not_match_its_pin_is_refused(monkeypatch):
    monkeypatch.setitem(_amd_chain.ARK_SHA256, "Milan", "00" * 32)
    with pytest.raises(ChainError, match="SHA-256 pin"):
        verify_signing_key(VCEK, NOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r[:100], "1184 bytes"),
        (lambda r: (9).to_bytes(4, "little") + r[4:], "version 9"),
        (lambda r: r[:0x400] + b"\x01" + r[0x401:], "must be zero"),
        (lambda r: r[:0x34] + (2).to_bytes(4, "little") + r[0x38:], "not ECDSA P-384"),
    ],
)
def test_malformed_reports_are_refused_clearly(mutate, message):
    with pytest.raises(ReportFormatError, match=message):
        parse_report(mutate(REPORT))


@pytest.mark.parametrize("chain", sorted(_amd_chain.INTERMEDIATES), ids=lambda c: f"{c[0]}-{c[1]}")
def test_every_pinned_intermediate_is_signed_by_its_pinned_root(chain):
    product, kind = chain
    intermediate, ark = _amd_chain.pinned_chain(product, kind)
    _amd_chain._check_pss_link(intermediate, ark, "pinned intermediate")  # pylint: disable=protected-access
    assert intermediate.subject.rfc4514_string().startswith(f"CN=SEV-{'VLEK-' if kind == 'vlek' else ''}{product},")
    assert ark.not_valid_after_utc > NOW
