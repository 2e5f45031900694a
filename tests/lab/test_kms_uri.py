# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab node parses recovery URIs as a node does (ansible_collections/confidential/recovery/docs/constellation-protocol.md, Key derivation)."""

from __future__ import annotations

import pytest

from conflab.constellation.kms_uri import UriError, check_storage_uri, parse_kms_uri


def test_protocol_example():
    key, salt = parse_kms_uri(
        "kms://cluster-kms?key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=&salt=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    )
    assert key == bytes(range(32)) and salt == bytes(range(32, 64))


def test_upstream_short_test_values_are_accepted():
    assert parse_kms_uri("kms://cluster-kms?key=bWFzdGVya2V5&salt=c29tZXNhbHQ=") == (b"masterkey", b"somesalt")


def test_percent_encoded_padding_is_decoded():
    assert parse_kms_uri("kms://cluster-kms?key=bWFzdGVya2V5&salt=c29tZXNhbHQ%253D")[1] == b"somesalt"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("kms://cluster-kms?salt=c29tZXNhbHQ=", 'missing query parameter "key"'),
        ("kms://cluster-kms?key=&salt=c29tZXNhbHQ=", 'missing query parameter "key"'),
        ("kms://aws-kms?key=bWFzdGVya2V5&salt=c29tZXNhbHQ=", "unknown KMS type: aws-kms"),
        ("kms://cluster-kms?key=c29tZXNhbHQ&salt=c29tZXNhbHQ=", "illegal base64"),
    ],
)
def test_errors_name_the_problem(uri, message):
    with pytest.raises(UriError, match=message):
        parse_kms_uri(uri)


def test_storage_uri():
    check_storage_uri("storage://no-store")
    with pytest.raises(UriError, match="unknown storage type: gcs"):
        check_storage_uri("storage://gcs")
