# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""qemu-tdx evidence: a TD quote bound to the aTLS nonce, and the qemuTDX configuration."""

from __future__ import annotations

import hashlib
import json

import yaml
from tdx_documents import SoftwareTdx
from vtpm_documents import NONCE, atls_certificate, b64

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote

OID = "1.3.9900.5.99"
PLATFORM = SoftwareTdx()
FMSPC = "B0C06F000000"
MRTD = parse_quote(PLATFORM.resign({})).mr_td


def certificate(nonce=NONCE, changes=None):
    def make_document(user_data: bytes) -> bytes:
        extra = hashlib.sha256(user_data + nonce).digest()
        quote = PLATFORM.resign({0x238: extra.ljust(64, b"\x00"), **(changes or {})})
        return json.dumps({"RawQuote": b64(quote), "UserData": b64(user_data)}).encode()

    return atls_certificate(OID, make_document)


def conf(mrtd=MRTD):
    return yaml.safe_load(
        yaml.safe_dump({"attestation": {"qemuTDX": {"measurements": {0: {"expected": mrtd.hex(), "warnOnly": False}}}}})
    )


def validator(collateral_dir, config=None):
    return constellation_validator(
        "qemu-tdx",
        config or conf(),
        "conf.yaml",
        lambda message: None,
        trust_anchor=PLATFORM.root_pem,
        collateral_dir=str(collateral_dir),
    )
