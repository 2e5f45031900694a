# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The gcp-sev-es validator end to end: the TPM key Compute Engine reports for the instance (saved in the collateral
directory), and GCE's platform state from a real GCE event log (fixtures/tpm/README.md), quoted by a software TPM."""

from __future__ import annotations

import hashlib

import pytest
from gcp_sev_es_evidence import EVENT_LOG, INSTANCE_INFO, OID, certificate, replayed, validator
from snp_documents import save_gce_key
from vtpm_documents import AK, NONCE, atls_certificate, document

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm_eventlog import parse_event_log
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed


@pytest.fixture
def collateral(tmp_path):
    save_gce_key(tmp_path, AK.public_key())
    return tmp_path


def test_a_gce_sev_vm_passes(collateral):
    cert, pcrs = certificate()
    evidence = validator(collateral, pcrs).validate(cert, NONCE)
    assert (
        evidence["variant"] == "gcp-sev-es"
        and evidence["platform"]["instance"] == "my-project/europe-west3-b/constell-control-plane-0"
    )


def _with_technology(log: bytes, technology: int) -> bytes:
    """The log with the NonHostInfo event's technology byte changed, and its digests made to match again."""
    events_start = log.index(b"GCE NonHostInfo\x00")
    changed = bytearray(log)
    changed[events_start + 16] = technology
    data = bytes(changed[events_start : events_start + 32])
    old_sha256 = hashlib.sha256(log[events_start : events_start + 32]).digest()
    old_sha1 = hashlib.sha1(log[events_start : events_start + 32]).digest()  # the log also carries a SHA-1 bank
    changed = bytes(changed).replace(old_sha256, hashlib.sha256(data).digest(), 1)
    return changed.replace(old_sha1, hashlib.sha1(data).digest(), 1)


def test_a_vm_without_sev_is_refused(collateral):
    cert, pcrs = certificate(_with_technology(EVENT_LOG, 0))
    with pytest.raises(AttestationFailed, match="GCE reports confidential technology none, not AMD SEV") as failure:
        validator(collateral, pcrs).validate(cert, NONCE)
    assert failure.value.check == "platform"


def test_a_nonhost_event_whose_data_does_not_match_its_digest_is_refused(collateral):
    start = EVENT_LOG.index(b"GCE NonHostInfo\x00")
    forged = bytearray(EVENT_LOG)
    forged[start + 16] = 4  # claims SEV-SNP without changing the digests
    cert, pcrs = certificate(bytes(forged))
    with pytest.raises(AttestationFailed, match="PCR 0 event 0x11 does not match its digest"):
        validator(collateral, pcrs).validate(cert, NONCE)


def test_without_the_saved_key_the_file_is_named(tmp_path):
    cert, pcrs = certificate()
    with pytest.raises(AttestationFailed, match="gce/my-project/europe-west3-b/constell-control-plane-0.pem"):
        validator(tmp_path, pcrs).validate(cert, NONCE)


def _with_firmware_version(log: bytes, version: str) -> bytes:
    """The log with its S-CRTM version event saying GCE firmware ``version``, and its digests made to match again."""
    event = next(e for e in parse_event_log(log) if e.pcr == 0 and e.type == 0x8)
    prefix = "GCE Virtual Firmware v".encode("utf-16-le")
    assert event.data.startswith(prefix)
    data = prefix + version.encode("utf-16-le") + event.data[len(prefix) + 2 * len(version) :]
    assert len(data) == len(event.data)
    changed = log.replace(event.data, data, 1)
    changed = changed.replace(hashlib.sha256(event.data).digest(), hashlib.sha256(data).digest(), 1)
    return changed.replace(hashlib.sha1(event.data).digest(), hashlib.sha1(data).digest(), 1)


def test_firmware_that_is_not_gces_v1_or_later_is_refused(collateral):
    cert, pcrs = certificate(_with_firmware_version(EVENT_LOG, "0"))
    with pytest.raises(AttestationFailed, match="firmware") as failure:
        validator(collateral, pcrs).validate(cert, NONCE)
    assert failure.value.check == "platform"


def test_a_document_without_an_event_log_is_refused(collateral):
    pcrs = replayed(EVENT_LOG)
    cert = atls_certificate(
        OID,
        lambda spki_hash: document(user_data=spki_hash, instance_info=INSTANCE_INFO, quoted_pcrs=pcrs, sent_pcrs=pcrs),
    )
    with pytest.raises(AttestationFailed, match="event log"):
        validator(collateral, pcrs).validate(cert, NONCE)
