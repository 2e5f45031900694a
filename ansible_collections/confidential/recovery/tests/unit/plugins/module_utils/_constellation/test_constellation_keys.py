# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Key derivation against upstream's known answers (docs/constellation-protocol.md, Key derivation) and RFC 5869."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import (
    MasterSecret,
    MasterSecretError,
    canonical_disk_uuid,
    hkdf_sha256,
)

UPSTREAM_VECTORS = [
    (
        bytes(32),
        bytes(32),
        b"key-00000000-0000-0000-0000-000000000000",
        "2b5c829f691bfd4232f8aac464bccc07e605c7c8e82cbca09837e86d0b6d0665",
    ),
    (
        b"\xff" * 32,
        b"\xff" * 32,
        b"key-ffffffff-ffff-ffff-ffff-ffffffffffff",
        "1484aa39d3415e906e07940ff215d8b1eee705d3027dba93306af4abff4f70be",
    ),
    (
        bytes(range(0x00, 0x20)),
        bytes(range(0x20, 0x40)),
        b"key-clusterID",
        "128c164378fe8767f998fbdfe4b4d6463ec5ae1b664ea5999bc27417607ae9b6",
    ),
    (
        bytes(range(0x40, 0x60)),
        bytes(range(0x60, 0x80)),
        b"key-measurementSecret",
        "4790578891f3fe6cc22cb661ecdc1b7e33121b1287546a52ba33a9136719c213",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "expected"), UPSTREAM_VECTORS)
def test_upstream_known_answers(ikm, salt, info, expected):
    assert hkdf_sha256(ikm, salt, info).hex() == expected


def test_rfc5869_case_1():
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), bytes(range(0x0D)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_rfc5869_case_3_without_salt_or_info():
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), b"", b"", 42)
    assert okm.hex() == ("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")


def test_disk_key_uses_the_lowercase_uuid():
    secret = MasterSecret(bytes(32), bytes(32))
    upper = secret.disk_key("00000000-0000-0000-0000-00000000000A")
    assert upper == secret.disk_key("00000000-0000-0000-0000-00000000000a")
    assert upper == hkdf_sha256(bytes(32), bytes(32), b"key-00000000-0000-0000-0000-00000000000a")


def test_kms_uri_matches_the_protocol_example():
    secret = MasterSecret(bytes(range(0x00, 0x20)), bytes(range(0x20, 0x40)))
    assert secret.kms_uri() == (
        "kms://cluster-kms?key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        "&salt=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    )


def test_kms_uri_is_url_safe_with_padding():
    secret = MasterSecret(b"\xfb\xff" * 16, b"\xfe" * 32)
    uri = secret.kms_uri()
    assert "+" not in uri and "/" not in uri.split("?", 1)[1] and uri.endswith("=")


def test_cluster_check_accepts_the_right_secret_and_rejects_another():
    right = MasterSecret(bytes(range(32)), bytes(range(32, 64)))
    salt = bytes(range(64, 96))
    right.check_cluster(right.cluster_id(salt).hex(), salt.hex())
    wrong = MasterSecret(bytes(32), bytes(range(32, 64)))
    with pytest.raises(MasterSecretError, match="does not belong to this cluster"):
        wrong.check_cluster(right.cluster_id(salt).hex(), salt.hex())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        (json.dumps({"key": "AAAA"}), 'with "key" and "salt"'),
        (json.dumps({"key": "@@@", "salt": base64.b64encode(bytes(32)).decode()}), "not valid standard base64"),
        (
            json.dumps({"key": base64.b64encode(bytes(8)).decode(), "salt": base64.b64encode(bytes(32)).decode()}),
            "at least 16",
        ),
        (
            json.dumps({"key": base64.b64encode(bytes(32)).decode(), "salt": base64.b64encode(bytes(8)).decode()}),
            "at least 32",
        ),
    ],
)
def test_malformed_master_secret_files_fail_without_echoing_content(tmp_path, content, message):
    path = tmp_path / "constellation-mastersecret.json"
    path.write_text(content)
    with pytest.raises(MasterSecretError, match=message) as caught:
        MasterSecret.from_file(str(path))
    assert "AAAA" not in str(caught.value) and "@@@" not in str(caught.value)


def test_missing_master_secret_file(tmp_path):
    with pytest.raises(MasterSecretError, match="does not exist"):
        MasterSecret.from_file(str(tmp_path / "absent.json"))


def test_repr_hides_the_bytes():
    assert "redacted" in repr(MasterSecret(b"\x01" * 32, b"\x02" * 32))


def test_canonical_disk_uuid_rejects_garbage():
    with pytest.raises(ValueError):
        canonical_disk_uuid("not-a-uuid")


def test_inline_master_secret_may_be_a_dict_or_a_json_string():
    doc = {"key": base64.b64encode(bytes(range(32))).decode(), "salt": base64.b64encode(bytes(range(32, 64))).decode()}
    from_dict = MasterSecret.from_json(doc)
    from_text = MasterSecret.from_json(json.dumps(doc))
    assert from_dict.key == from_text.key == bytes(range(32))


def test_inline_master_secret_errors_do_not_mention_a_file():
    with pytest.raises(MasterSecretError, match="^master_secret is not JSON$"):
        MasterSecret.from_json("{'key': 'python repr'}")
