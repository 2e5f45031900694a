# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The byte-level evidence readers, fed mutated real fixtures: each returns, or raises its own typed error."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding
from fixture_files import FIXTURES
from hypothesis import given
from mutations import mutated_bytes, only
from snp_documents import NOW, SoftwareSnp  # certificates issued around the builder's NOW, the run's clock
from tdx_documents import QUOTE
from vtpm_documents import AK, NONCE, PCRS, _public, _quote

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_chain import (
    ChainError,
    verify_signing_key,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._snp_report import (
    ReportFormatError,
    parse_report,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import (
    QuoteFormatError,
    parse_quote,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm import (
    ALG_SHA256,
    TpmError,
    parse_attest,
    parse_public,
    verify_quote,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm_eventlog import parse_event_log

SNP_REPORT = (FIXTURES / "snp" / "milan-report.bin").read_bytes()
VCEK = (FIXTURES / "snp" / "milan-vcek.der").read_bytes()
EVENT_LOG = (FIXTURES / "tpm" / "cos-85-amd-sev.eventlog").read_bytes()
ATTEST, RAW_SIG = _quote(NONCE, PCRS)
AK_PUBLIC = _public(AK)
PLATFORM = SoftwareSnp()
DER = Encoding.DER


def test_the_seeds_are_accepted():
    """The mutations start from inputs the readers accept, so a rejection is the mutation's doing."""
    parse_report(SNP_REPORT)
    parse_quote(QUOTE)
    assert parse_event_log(EVENT_LOG)
    verify_quote(parse_public(AK_PUBLIC), ATTEST, RAW_SIG, ALG_SHA256, PCRS, NONCE)
    verify_signing_key(PLATFORM.vcek.public_bytes(DER), NOW, PLATFORM.ask.public_bytes(DER), PLATFORM.pem(PLATFORM.ark))


@given(mutated_bytes(SNP_REPORT))
def test_snp_report(data):
    only(ReportFormatError, parse_report, data)


@given(mutated_bytes(VCEK))
def test_amd_signing_key_chain(data):
    only(ChainError, verify_signing_key, data, NOW)


@given(mutated_bytes(PLATFORM.vcek.public_bytes(DER)), mutated_bytes(PLATFORM.ask.public_bytes(DER)))
def test_amd_chain_with_its_intermediate(leaf, intermediate):
    only(ChainError, verify_signing_key, leaf, NOW, intermediate, PLATFORM.pem(PLATFORM.ark))


@given(mutated_bytes(QUOTE, max_random=6000))
def test_tdx_quote(data):
    only(QuoteFormatError, parse_quote, data)


@given(mutated_bytes(EVENT_LOG, max_random=4096))
def test_tpm_event_log(data):
    only(TpmError, parse_event_log, data)


@given(mutated_bytes(AK_PUBLIC))
def test_tpm_public_key(data):
    only(TpmError, parse_public, data)


@given(mutated_bytes(ATTEST))
def test_tpm_attest(data):
    only(TpmError, parse_attest, data)


@given(mutated_bytes(ATTEST), mutated_bytes(RAW_SIG))
def test_tpm_quote_signature(attest, raw_sig):
    only(TpmError, verify_quote, parse_public(AK_PUBLIC), attest, raw_sig, ALG_SHA256, PCRS, NONCE)
