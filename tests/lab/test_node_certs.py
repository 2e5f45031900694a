# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's dummy-attested certificates pass the collection's validator, and only when they should."""

import os

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    ConstellationDummyValidator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed
from conflab.constellation.node_certs import DummyAttestationIssuer, verify_dummy_cert


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def test_issued_cert_validates_for_its_nonce():
    nonce = os.urandom(32)
    cert, _ = DummyAttestationIssuer().issue(nonce)
    verify_dummy_cert(cert, nonce)
    assert ConstellationDummyValidator().validate(der(cert), nonce)["variant"] == "dummy"


def test_cert_for_another_nonce_is_rejected_by_both_sides():
    cert, _ = DummyAttestationIssuer().issue(os.urandom(32))
    other = os.urandom(32)
    with pytest.raises(ValueError, match="invalid nonce"):
        verify_dummy_cert(cert, other)
    with pytest.raises(AttestationFailed, match="invalid nonce"):
        ConstellationDummyValidator().validate(der(cert), other)


def test_plain_cert_has_no_attestation():
    cert, _ = DummyAttestationIssuer().issue_plain(b"")
    with pytest.raises(ValueError, match="does not contain attestation document"):
        verify_dummy_cert(cert)


def test_one_key_per_issuer_new_cert_per_handshake():
    issuer = DummyAttestationIssuer()
    first, key_a = issuer.issue(os.urandom(32))
    second, key_b = issuer.issue(os.urandom(32))
    assert key_a is key_b
    assert first.serial_number != second.serial_number
