# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""gcp-sev-es evidence: a real GCE event log replayed into PCRs and quoted by a software TPM."""

from __future__ import annotations

import hashlib
import json

from fixture_files import FIXTURES as FIXTURE_ROOT
from snp_documents import GCP_INSTANCE
from vtpm_documents import PCRS, atls_certificate, document

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm_eventlog import parse_event_log

OID = "1.3.9900.3.1"
EVENT_LOG = (FIXTURE_ROOT / "tpm" / "cos-85-amd-sev.eventlog").read_bytes()
INSTANCE_INFO = json.dumps(GCP_INSTANCE).encode()


def replayed(log: bytes) -> dict[int, bytes]:
    """The SHA-256 PCRs a TPM holds after the events of ``log`` (PCRs without events stay as PCRS has them)."""
    pcrs = dict(PCRS)
    extended = {}
    for event in parse_event_log(log):
        if event.type == 3 or 11 not in event.digests:  # EV_NO_ACTION is not extended
            continue
        value = extended.get(event.pcr, bytes(32))
        extended[event.pcr] = hashlib.sha256(value + event.digests[11]).digest()
    pcrs.update(extended)
    return pcrs


def certificate(log=EVENT_LOG, instance_info=INSTANCE_INFO):
    pcrs = replayed(log)
    return atls_certificate(
        OID,
        lambda spki_hash: document(
            user_data=spki_hash, instance_info=instance_info, quoted_pcrs=pcrs, sent_pcrs=pcrs, event_log=log
        ),
    ), pcrs


def validator(collateral_dir, pcrs):
    conf = {
        "attestation": {
            "gcpSEVES": {
                "measurements": {
                    0: {"expected": pcrs[0].hex(), "warnOnly": False},
                    4: {"expected": pcrs[4].hex(), "warnOnly": False},
                }
            }
        }
    }
    return constellation_validator(
        "gcp-sev-es", conf, "conf.yaml", lambda message: None, collateral_dir=str(collateral_dir)
    )
