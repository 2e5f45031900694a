# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every Constellation variant's document validator, fed mutated genuine documents (bytes, JSON structure, and the
variant's InstanceInfo): it accepts, or raises CheckFailed, which the aTLS validator turns into that node's
attestation failure. Nothing else may escape."""

from __future__ import annotations

import base64
import json
import types

import aws_nitro_tpm_evidence as nitro
import azure_tdx_evidence as azure_tdx
import gcp_sev_es_evidence as gcp_es
import pytest
import qemu_tdx_evidence as qemu_tdx
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated_bytes, mutated_json, only
from snp_documents import (
    SoftwareSnp,
    aws_config,
    aws_instance_info,
    azure_config,
    azure_instance_info,
    gcp_config,
    gcp_instance_info,
    save_gce_key,
)
from tdx_documents import COLLATERAL
from vtpm_documents import AK, NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _tdx_verify
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._checks import CheckFailed
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._choices import CONSTELLATION_OIDS
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._peer_certificate import peer_document

SNP = SoftwareSnp()
SNP_VLEK = SoftwareSnp(vlek=True)  # AWS signs with a VLEK
QEMU_VTPM = {
    "attestation": {"qemuVTPM": {"measurements": {i: {"expected": PCRS[i].hex(), "warnOnly": False} for i in (4, 9)}}}
}


@pytest.fixture(scope="module")
def collateral(tmp_path_factory):
    directory = tmp_path_factory.mktemp("collateral")
    save_gce_key(directory, AK.public_key())
    nitro.save_describe_images(directory)
    tdx = directory / "pcs" / "tdx" / "B0C06F000000.json"
    tdx.parent.mkdir(parents=True)
    tdx.write_text(COLLATERAL)
    return directory


@pytest.fixture(scope="module", autouse=True)
def tcb_up_to_date():
    """dcap-qvl's verdict on the software TDX platform's quotes, which no Intel key signed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            _tdx_verify.dcap_qvl,
            "verify",
            lambda quote, collateral, now: types.SimpleNamespace(status="UpToDate", advisory_ids=[]),
        )
        yield


def _quiet(message):
    return None


def _gcp_sev_es(directory):
    certificate, pcrs = gcp_es.certificate()
    return gcp_es.validator(directory, pcrs), certificate


CASES = {
    "qemu-vtpm": lambda d: (constellation_validator("qemu-vtpm", QEMU_VTPM, "conf.yaml", _quiet), node_certificate()),
    "azure-sev-snp": lambda d: (
        constellation_validator("azure-sev-snp", azure_config(SNP), "conf.yaml", _quiet, trust_anchor=SNP.pem(SNP.ark)),
        node_certificate(oid=CONSTELLATION_OIDS["azure-sev-snp"], instance_info=azure_instance_info(SNP)),
    ),
    "aws-sev-snp": lambda d: (
        constellation_validator(
            "aws-sev-snp", aws_config(SNP_VLEK), "conf.yaml", _quiet, trust_anchor=SNP_VLEK.pem(SNP_VLEK.ark)
        ),
        node_certificate(oid=CONSTELLATION_OIDS["aws-sev-snp"], instance_info=aws_instance_info(SNP_VLEK)),
    ),
    "gcp-sev-snp": lambda d: (
        constellation_validator(
            "gcp-sev-snp", gcp_config(), "conf.yaml", _quiet, trust_anchor=SNP.pem(SNP.ark), collateral_dir=str(d)
        ),
        node_certificate(oid=CONSTELLATION_OIDS["gcp-sev-snp"], instance_info=gcp_instance_info(SNP)),
    ),
    "gcp-sev-es": _gcp_sev_es,
    "aws-nitro-tpm": lambda d: (
        constellation_validator("aws-nitro-tpm", nitro.CONF, "conf.yaml", _quiet, collateral_dir=str(d)),
        node_certificate(oid=CONSTELLATION_OIDS["aws-nitro-tpm"], instance_info=nitro.IDENTITY),
    ),
    "azure-tdx": lambda d: (
        azure_tdx.validator(d),
        node_certificate(oid=azure_tdx.OID, instance_info=azure_tdx.instance_info()),
    ),
    "qemu-tdx": lambda d: (qemu_tdx.validator(d), qemu_tdx.certificate()),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def variant(request, collateral):
    """(document validator, the genuine document) of one variant."""
    validator, certificate = CASES[request.param](collateral)
    _cert, raw = peer_document(certificate, CONSTELLATION_OIDS[request.param])
    return validator.document, raw


def test_the_genuine_documents_pass(variant):
    document, raw = variant
    assert document.validate(raw, NONCE) is not None


@given(data=st.data())
def test_mutated_documents(variant, data):
    document, raw = variant
    doc = json.loads(raw)
    mutation = data.draw(st.sampled_from(["bytes", "structure", "instance_info"]))
    if mutation == "bytes":
        candidate = data.draw(mutated_bytes(raw, max_random=512))
    elif mutation == "structure":
        candidate = json.dumps(data.draw(mutated_json(doc))).encode()
    else:
        key = "InstanceInfo" if doc.get("InstanceInfo") else "RawQuote"
        info = base64.b64decode(doc.get(key) or "")
        try:
            parsed = json.loads(info)
        except ValueError:
            parsed = None
        changed = data.draw(
            mutated_json(parsed).map(lambda v: json.dumps(v).encode())
            if isinstance(parsed, dict)
            else mutated_bytes(info, max_random=512)
        )
        candidate = json.dumps(dict(doc, **{key: base64.b64encode(changed).decode()})).encode()
    only(CheckFailed, document.validate, candidate, NONCE)
