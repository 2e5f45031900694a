# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Reference measurements: both config forms, and enforced against warn-only mismatches."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._measurements import (
    MeasurementsError,
    compare,
    parse_measurements,
)

# The shape of constellation-conf.yaml's attestation.azureSEVSNP.measurements (Constellation v2.x defaults).
CONFIG = yaml.safe_load("""
1:  {expected: 3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969, warnOnly: true}
4:  {expected: a4951075328658638965825fb3c5174c928d6e8e745a65cc8eda364deb9beb28, warnOnly: false}
8:  {expected: "0000000000000000000000000000000000000000000000000000000000000000", warnOnly: false}
""")


def _separator_pcr() -> bytes:
    """PCR 1 of the defaults: a SHA-256 PCR after one extend with the digest of the 4-byte separator 00000000."""
    return hashlib.sha256(bytes(32) + hashlib.sha256(bytes(4)).digest()).digest()


def test_matching_values_pass():
    expected = parse_measurements(CONFIG)
    actual = {1: _separator_pcr(), 4: bytes.fromhex(CONFIG[4]["expected"]), 8: bytes(32)}
    assert compare(expected, actual) == ([], [])


def test_an_enforced_mismatch_is_an_error_and_a_warn_only_one_a_warning():
    expected = parse_measurements(CONFIG)
    actual = {1: b"\x11" * 32, 4: b"\x22" * 32, 8: bytes(32)}
    errors, warnings = compare(expected, actual)
    assert errors == [f"untrusted measurement value {'22' * 32} at index 4"]
    assert warnings == [f"untrusted measurement value {'11' * 32} at index 1"]


def test_a_missing_enforced_value_is_an_error():
    errors, _warnings = compare(
        parse_measurements(CONFIG), {1: _separator_pcr(), 4: bytes.fromhex(CONFIG[4]["expected"])}
    )
    assert errors == ["missing measurement value for index 8"]


def test_the_legacy_form_is_enforced():
    expected = parse_measurements({"9": "ab" * 48})
    assert expected[9].warn_only is False and expected[9].expected == b"\xab" * 48


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "non-empty"),
        ({"x": "00" * 32}, "not a number"),
        ({4: "00" * 31}, "32 or 48"),
        ({4: "zz" * 32}, "not hex"),
        ({4: {"warnOnly": True}}, "no 'expected'"),
        ({4: {"expected": "00" * 32, "warnOnly": "yes"}}, "true or false"),
    ],
)
def test_malformed_references_are_clear_errors(config, message):
    with pytest.raises(MeasurementsError, match=message):
        parse_measurements(config)
