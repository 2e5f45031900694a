# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Contrast's ID-key digest, against vectors computed from Contrast's internal/idblock (launch digest = bytes 1..48)."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._idblock import (
    IdBlockError,
    guest_policy,
    id_block,
    id_key_digest,
)

LAUNCH_DIGEST = bytes(range(1, 49))


@pytest.mark.parametrize(
    ("policy", "digest"),
    [
        (0x20000, "bd81f942a7c4fc8c227da5b621b6b185e4369d0b44e21253d6d0b090b45c084b2d64bef3f7cdc990ab97d4ad5cfb3e34"),
        (0x30000, "509a5e09cffe0f5dd47d401e719f2d1b72a5e5bd8f3a92ffd9b3a436c3f461102b2e8ed95579e467e112f98a5adea4d3"),
        (0x3001F, "5523dbaf5a4d7930090178e796a3fc1f829215148849ed6b222786bc1561ae9ab83b284f22a7c90e10b740b69afa2f29"),
    ],
)
def test_the_digest_matches_contrasts(policy, digest):
    assert id_key_digest(LAUNCH_DIGEST, policy).hex() == digest


def test_the_manifest_guest_policy_gives_the_policy_word():
    assert guest_policy({"ABIMinor": 0, "ABIMajor": 0, "SMT": True, "Debug": False}) == 0x30000
    assert guest_policy({"ABIMinor": 31, "SMT": True}) == 0x3001F
    assert guest_policy({"Debug": True, "MigrateMA": True}) == 0x20000 | 1 << 19 | 1 << 18


def test_another_measurement_gives_another_digest():
    assert id_key_digest(bytes(48), 0x30000) != id_key_digest(LAUNCH_DIGEST, 0x30000)


def test_the_block_layout():
    block = id_block(LAUNCH_DIGEST, 0x30000)
    assert (
        len(block) == 0x60 and block[48] == 1 and block[64] == 2 and block[80:88] == b"\x01\x00\x00\x00\x02\x00\x00\x00"
    )
    with pytest.raises(IdBlockError, match="48 bytes"):
        id_block(b"short", 0x30000)
