# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator's SEV-SNP and TDX evidence (go-sev-guest and go-tdx-guest protobufs), the manifest's reference
values, and the aTLS certificate and its extension: each reader returns, or raises its own typed error."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import types

import contrast_tdx_evidence as contrast_tdx
import pytest
from contrast_documents import POLICY_HASH, coordinator_certificate, coordinator_tdx_certificate, reference_entry
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st
from mutations import JSON_VALUES, mutated_bytes, mutated_json, mutated_message, only
from snp_documents import SoftwareSnp
from tdx_documents import COLLATERAL
from vtpm_documents import atls_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    ConstellationDummyValidator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._contrast import (
    _snp as _contrast_snp,
)
from ansible_collections.confidential.recovery.plugins.module_utils._contrast import (
    _tdx as _contrast_tdx,
)
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._validators import (
    ContrastInsecureValidator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _tdx_verify
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_kds import KdsCollateral
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._choices import CONTRAST_OIDS
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._intel_pcs import PcsCollateral
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._peer_certificate import (
    peer_document,
    spki_der,
)
from ansible_collections.confidential.recovery.plugins.module_utils._generated import sevsnp_pb2, tdx_pb2
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

NONCE = b"f" * 32
SNP = SoftwareSnp()
NOW = datetime.datetime.now(datetime.UTC)


def _document(certificate: bytes, oid: str):
    cert, raw = peer_document(certificate, oid)
    return spki_der(cert), raw


SNP_SPKI, SNP_RAW = _document(coordinator_certificate(SNP, NONCE), CONTRAST_OIDS["snp"])
SNP_MESSAGE = sevsnp_pb2.Attestation.FromString(SNP_RAW)


def check_snp(raw: bytes, entries=None):
    return _contrast_snp.validate(
        raw,
        SNP_SPKI,
        NONCE,
        entries or [reference_entry()],
        [POLICY_HASH],
        NOW,
        trust_anchor=SNP.pem(SNP.ark),
        collateral=KdsCollateral(None),
    )


@pytest.fixture(scope="module")
def tdx(tmp_path_factory):
    """(check, the genuine evidence's raw QuoteV4) of the software TDX platform, with Intel's collateral saved."""
    directory = tmp_path_factory.mktemp("pcs")
    (directory / "pcs" / "tdx").mkdir(parents=True)
    (directory / "pcs" / "tdx" / "B0C06F000000.json").write_text(COLLATERAL)
    spki, raw = _document(coordinator_tdx_certificate(contrast_tdx.PLATFORM, NONCE), CONTRAST_OIDS["tdx"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            _tdx_verify.dcap_qvl,
            "verify",
            lambda quote, collateral, now: types.SimpleNamespace(status="UpToDate", advisory_ids=[]),
        )

        def check(candidate: bytes, entries=None):
            return _contrast_tdx.validate(
                candidate,
                spki,
                NONCE,
                entries or [contrast_tdx.entry()],
                [POLICY_HASH],
                NOW,
                collateral=PcsCollateral(str(directory)),
                trust_anchor=contrast_tdx.PLATFORM.root_pem,
            )

        yield check, raw


def test_the_genuine_evidence_passes(tdx):
    assert check_snp(SNP_RAW)["host_data"] == POLICY_HASH
    check, raw = tdx
    assert check(raw)["mr_config_id"].startswith(POLICY_HASH)


@given(mutated_message(SNP_MESSAGE))
def test_contrast_snp_evidence(raw):
    only(_contrast_snp.ContrastSnpError, check_snp, raw)


@given(mutated_json(reference_entry()))
def test_contrast_snp_reference_values(entry):
    only(_contrast_snp.ContrastSnpError, check_snp, SNP_RAW, [entry])


@given(data=st.data())
def test_contrast_tdx_evidence(tdx, data):
    check, raw = tdx
    only(_contrast_tdx.ContrastTdxError, check, data.draw(mutated_message(tdx_pb2.QuoteV4.FromString(raw))))


@given(data=st.data())
def test_contrast_tdx_reference_values(tdx, data):
    check, raw = tdx
    only(_contrast_tdx.ContrastTdxError, check, raw, [data.draw(mutated_json(contrast_tdx.entry()))])


def _certificate_with(oid: str, document: bytes) -> bytes:
    return atls_certificate(oid, lambda spki_hash: document)


INSECURE_SEED = {"reportData": base64.b64encode(bytes(64)).decode(), "hostData": base64.b64encode(bytes(32)).decode()}
DUMMY_SEED = {"UserData": base64.b64encode(bytes(32)).decode(), "Nonce": base64.b64encode(NONCE).decode()}


@given(
    mutated_json(INSECURE_SEED).map(lambda v: json.dumps(v).encode())
    | mutated_bytes(json.dumps(INSECURE_SEED).encode())
)
def test_contrast_insecure_document(document):
    validator = ContrastInsecureValidator([POLICY_HASH])
    only(AttestationFailed, validator.validate, _certificate_with(CONTRAST_OIDS["insecure"], document), NONCE)


@given(mutated_json(DUMMY_SEED).map(lambda v: json.dumps(v).encode()) | mutated_bytes(json.dumps(DUMMY_SEED).encode()))
def test_constellation_dummy_document(document):
    only(AttestationFailed, ConstellationDummyValidator().validate, _certificate_with("1.3.9900.1.1", document), NONCE)


GENUINE_CERT = coordinator_certificate(SNP, NONCE)


@given(mutated_bytes(GENUINE_CERT, max_random=1500))
def test_atls_certificate_and_extension(der):
    only(AttestationFailed, peer_document, der, CONTRAST_OIDS["snp"])


@given(JSON_VALUES)
def test_the_reference_values_list_itself(values):
    only(
        _contrast_snp.ContrastSnpError,
        _contrast_snp.validate,
        SNP_RAW,
        SNP_SPKI,
        NONCE,
        values,
        [POLICY_HASH],
        NOW,
        trust_anchor=SNP.pem(SNP.ark),
        collateral=KdsCollateral(None),
    )


def test_a_certificate_that_cryptography_cannot_read_is_an_attestation_failure():
    with pytest.raises(AttestationFailed):
        peer_document(b"\x30\x03\x02\x01\x01", CONTRAST_OIDS["snp"])
    assert hashlib.sha256(GENUINE_CERT).digest()  # the genuine one parses
    x509.load_der_x509_certificate(GENUINE_CERT)
