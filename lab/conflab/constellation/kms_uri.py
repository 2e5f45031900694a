# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Parse the recovery URIs the way a node does (ansible_collections/confidential/recovery/docs/constellation-protocol.md, Key derivation)."""

from __future__ import annotations

import base64
import binascii
import urllib.parse


class UriError(Exception):
    pass


def _query_value(query: dict, name: str) -> bytes:
    values = query.get(name) or [""]
    raw = values[0]
    if not raw:
        raise UriError(f'missing query parameter "{name}"')
    decoded = urllib.parse.unquote(raw)  # parse_qs already decoded once; the node decodes twice
    try:
        return base64.b64decode(decoded.encode(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UriError(f"illegal base64 data in {name}: {exc}") from exc


def parse_kms_uri(uri: str) -> tuple[bytes, bytes]:
    """Return (master key, salt) from ``kms://cluster-kms?key=..&salt=..``."""
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme != "kms":
        raise UriError(f"invalid KMS URI: invalid scheme: {parsed.scheme}")
    if parsed.hostname != "cluster-kms":
        raise UriError(f"unknown KMS type: {parsed.hostname or ''}")
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    key = _query_value(query, "key")
    salt = _query_value(query, "salt")
    if not key:
        raise UriError("missing master key")
    if not salt:
        raise UriError("missing salt")
    return key, salt


def check_storage_uri(uri: str) -> None:
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme != "storage":
        raise UriError(f"invalid storage URI: invalid scheme: {parsed.scheme}")
    if parsed.hostname != "no-store":
        raise UriError(f"unknown storage type: {parsed.hostname or ''}")
