# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation's vTPM document: binding, quote, measurements. The documents are made here by a software
signer in the TPM's formats (the formats themselves are checked against real evidence in test_tpm.py)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from vtpm_documents import NONCE, PCRS, SPKI_HASH, document, references

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._vtpm import (
    VtpmDocumentError,
    ak_from_document,
    validate,
)


def test_a_document_for_this_nonce_validates_and_returns_its_user_data():
    result = validate(document(), NONCE, ak_from_document, references())
    assert result.user_data == SPKI_HASH and result.warnings == []


def test_instance_info_is_part_of_the_quoted_nonce():
    result = validate(document(instance_info=b'{"zone":"x"}'), NONCE, ak_from_document, references())
    assert result.user_data == SPKI_HASH


def test_a_document_for_another_nonce_is_a_replay():
    with pytest.raises(VtpmDocumentError, match="another nonce"):
        validate(document(nonce=b"m" * 32), NONCE, ak_from_document, references())


def test_user_data_is_bound_by_the_quote():
    raw = json.loads(document())
    raw["UserData"] = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(VtpmDocumentError, match="another nonce"):
        validate(json.dumps(raw).encode(), NONCE, ak_from_document, references())


def test_an_enforced_measurement_mismatch_rejects_and_a_warn_only_one_warns():
    changed = {**PCRS, 9: b"\x09" * 32, 4: b"\x04" * 32}
    with pytest.raises(VtpmDocumentError, match="at index 4"):
        validate(document(quoted_pcrs=changed, sent_pcrs=changed), NONCE, ak_from_document, references(pcr9=True))
    result = validate(
        document(quoted_pcrs=changed, sent_pcrs=changed), NONCE, ak_from_document, references(pcr4=True, pcr9=True)
    )
    assert len(result.warnings) == 2 and "at index 9" in result.warnings[1]


def test_pcrs_that_were_not_quoted_are_refused():
    forged = {**PCRS, 4: b"\x04" * 32}
    with pytest.raises(VtpmDocumentError, match="not the quoted ones"):
        validate(document(sent_pcrs=forged), NONCE, ak_from_document, references())


def test_the_variant_decides_which_attestation_key_to_trust():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(VtpmDocumentError, match="not the one the variant trusts"):
        validate(document(), NONCE, lambda doc, extra: (other.public_key(), {}), references())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"{}", "no Attestation"),
        (json.dumps({"Attestation": {"quotes": []}}).encode(), "no quote"),
        (
            json.dumps(
                {
                    "Attestation": {"ak_pub": "!!", "quotes": [{"quote": "", "raw_sig": "", "pcrs": {"hash": 11}}]},
                    "UserData": "",
                }
            ).encode(),
            "ak_pub is not valid base64",
        ),
    ],
)
def test_malformed_documents_are_refused_clearly(raw, message):
    with pytest.raises(VtpmDocumentError, match=message):
        validate(raw, NONCE, ak_from_document, references())
