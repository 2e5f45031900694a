# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A Contrast Coordinator's TDX evidence and reference entries."""

from __future__ import annotations

from contrast_documents import POLICY_HASH
from tdx_documents import QUOTE, SoftwareTdx

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._validators import contrast_validator
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote

NONCE = b"t" * 32
PLATFORM = SoftwareTdx()
GENUINE = parse_quote(QUOTE)


def entry(**changes) -> dict:
    values = {
        "MrTd": GENUINE.mr_td.hex(),
        "Rtmrs": [r.hex() for r in GENUINE.rtmrs],
        "MrSeam": GENUINE.mr_seam.hex(),
        "Xfam": GENUINE.xfam.hex(),
        "MinimumTeeTcbSvn": GENUINE.tee_tcb_svn.hex(),
        "MinimumQeSvn": 0,
        "MinimumPceSvn": 0,
    }
    values.update(changes)
    return values


def validator(directory, entries=None, hashes=(POLICY_HASH,)):
    return contrast_validator(
        "tdx",
        list(hashes),
        {"tdx": entries or [entry()]},
        trust_anchor=PLATFORM.root_pem,
        collateral_dir=str(directory),
    )
