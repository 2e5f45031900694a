# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""azure-tdx evidence: HCL runtime data bound by a re-signed TD quote, and the azureTDX configuration."""

from __future__ import annotations

import hashlib
import json

from snp_documents import runtime_data
from tdx_documents import SoftwareTdx
from vtpm_documents import AK, PCRS, b64

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote

OID = "1.3.9900.4.3"
PLATFORM = SoftwareTdx()
QUOTE = parse_quote(PLATFORM.resign({}))


def instance_info(ak_public=None, changes=None, after_signing=lambda raw: raw) -> bytes:
    runtime = runtime_data(ak_public or AK.public_key())
    quote = after_signing(PLATFORM.resign({0x238: hashlib.sha256(runtime).digest() + bytes(32), **(changes or {})}))
    return json.dumps({"AttestationReport": b64(quote), "RuntimeData": b64(runtime)}).encode()


def conf(**changes):
    section = {
        "measurements": {i: {"expected": PCRS[i].hex(), "warnOnly": False} for i in (4, 9, 11)},
        "qeSVN": 0,
        "pceSVN": 0,
        "teeTCBSVN": QUOTE.tee_tcb_svn.hex(),
        "qeVendorID": QUOTE.qe_vendor_id.hex(),
        "xfam": QUOTE.xfam.hex(),
        "mrSeam": QUOTE.mr_seam.hex(),
    }
    section.update(changes)
    return {"attestation": {"azureTDX": section}}


def validator(collateral_dir, config=None):
    return constellation_validator(
        "azure-tdx",
        config or conf(),
        "conf.yaml",
        lambda message: None,
        trust_anchor=PLATFORM.root_pem,
        collateral_dir=str(collateral_dir),
    )
