# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""aTLS: whatever a validator raises on a peer's evidence ends as that peer's AttestationFailed."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._net import _atls


class Raising:
    def __init__(self, error):
        self.error = error

    def validate(self, der, nonce):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        KeyError("PCRs"),
        ZeroDivisionError("modulus 0"),
        IndexError("x" * 5000),
        TypeError("list indices must be integers"),
    ],
)
def test_an_unforeseen_error_in_a_validator_is_an_attestation_failure(error):
    with pytest.raises(_atls.AttestationFailed) as caught:
        _atls._validated(Raising(error), b"der", b"nonce", "127.0.0.1:9999")
    message = str(caught.value)
    assert message.startswith("127.0.0.1:9999: the attestation document is malformed")
    assert type(error).__name__ in message
    assert len(message) < 400  # a peer cannot flood the report through its error text


def test_a_typed_failure_passes_through_unchanged():
    failure = _atls.AttestationFailed("wrong measurement")
    with pytest.raises(_atls.AttestationFailed) as caught:
        _atls._validated(Raising(failure), b"der", b"nonce", "127.0.0.1:9999")
    assert caught.value is failure


def test_evidence_is_returned():
    class Good:
        def validate(self, der, nonce):
            return {"variant": "x", "nonce": nonce}

    assert _atls._validated(Good(), b"der", b"n", "a:1") == {"variant": "x", "nonce": b"n"}
