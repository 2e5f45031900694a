# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""TPM 2.0 quotes and event-log replay against a real GCE attestation (fixtures/tpm/README.md)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fixture_files import FIXTURES as FIXTURE_ROOT

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm import (
    ALG_SHA1,
    ALG_SHA256,
    ALG_SHA384,
    TpmError,
    parse_public,
    verify_quote,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm_eventlog import (
    parse_event_log,
    replay,
)

FIXTURE = (FIXTURE_ROOT / "tpm" / "gce-cos-85-nonce9009.pb").read_bytes()
NONCE = bytes([0x90, 0x09])


def _fields(data: bytes):
    """Protobuf wire format, just enough for this fixture: (field number, value) of varints and byte strings."""
    offset = 0

    def varint():
        nonlocal offset
        value = shift = 0
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while offset < len(data):
        key = varint()
        if key & 7 == 0:
            yield key >> 3, varint()
        elif key & 7 == 2:
            size = varint()
            yield key >> 3, data[offset : offset + size]
            offset += size
        else:
            raise ValueError(f"wire type {key & 7} is not used by the fixture")


def _attestation():
    ak_pub, quotes, event_log = None, [], None
    for number, value in _fields(FIXTURE):
        if number == 1:
            ak_pub = value
        elif number == 2:
            quote = dict(_fields(value))
            bank, pcrs = None, {}
            for pcr_field, pcr_value in _fields(quote[3]):
                if pcr_field == 1:
                    bank = pcr_value
                else:
                    entry = dict(_fields(pcr_value))
                    pcrs[entry.get(1, 0)] = entry[2]
            quotes.append({"quote": quote[1], "raw_sig": quote[2], "bank": bank, "pcrs": pcrs})
        elif number == 3:
            event_log = value
    return ak_pub, quotes, event_log


AK_PUB, QUOTES, EVENT_LOG = _attestation()


def test_the_fixture_holds_three_banks_of_24_pcrs():
    assert sorted(q["bank"] for q in QUOTES) == [ALG_SHA1, ALG_SHA256, ALG_SHA384]
    assert all(sorted(q["pcrs"]) == list(range(24)) for q in QUOTES)
    assert isinstance(parse_public(AK_PUB), rsa.RSAPublicKey)


@pytest.mark.parametrize("index", range(3), ids=["bank0", "bank1", "bank2"])
def test_every_quote_verifies_for_its_nonce(index):
    quote = QUOTES[index]
    verify_quote(parse_public(AK_PUB), quote["quote"], quote["raw_sig"], quote["bank"], quote["pcrs"], NONCE)


def _sha256_quote():
    return next(q for q in QUOTES if q["bank"] == ALG_SHA256)


def test_another_nonce_is_a_replay():
    quote = _sha256_quote()
    with pytest.raises(TpmError, match="another nonce"):
        verify_quote(parse_public(AK_PUB), quote["quote"], quote["raw_sig"], ALG_SHA256, quote["pcrs"], b"\x90\x0a")


def test_a_changed_pcr_value_is_caught():
    quote = _sha256_quote()
    pcrs = {**quote["pcrs"], 4: bytes(32)}
    with pytest.raises(TpmError, match="not the quoted ones"):
        verify_quote(parse_public(AK_PUB), quote["quote"], quote["raw_sig"], ALG_SHA256, pcrs, NONCE)


def test_a_missing_pcr_is_caught():
    quote = _sha256_quote()
    pcrs = {k: v for k, v in quote["pcrs"].items() if k != 23}
    with pytest.raises(TpmError, match="other PCRs"):
        verify_quote(parse_public(AK_PUB), quote["quote"], quote["raw_sig"], ALG_SHA256, pcrs, NONCE)


def test_a_changed_quote_byte_breaks_the_signature():
    quote = _sha256_quote()
    tampered = bytearray(quote["quote"])
    tampered[-1] ^= 1
    with pytest.raises(TpmError, match="signature does not verify"):
        verify_quote(parse_public(AK_PUB), bytes(tampered), quote["raw_sig"], ALG_SHA256, quote["pcrs"], NONCE)


def test_the_event_log_replays_to_the_quoted_pcrs():
    events = parse_event_log(EVENT_LOG)
    assert len(events) > 20
    for bank in (ALG_SHA1, ALG_SHA256):
        replay(events, bank, next(q for q in QUOTES if q["bank"] == bank)["pcrs"])


def test_a_log_that_does_not_match_fails_the_replay():
    events = parse_event_log(EVENT_LOG)
    pcrs = dict(_sha256_quote()["pcrs"])
    logged = next(e.pcr for e in events if e.type != 3)
    pcrs[logged] = bytes(32)
    with pytest.raises(TpmError, match=f"quoted PCR {logged}"):
        replay(events, ALG_SHA256, pcrs)
