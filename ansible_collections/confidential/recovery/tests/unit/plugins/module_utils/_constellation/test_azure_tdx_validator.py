# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The azure-tdx validator end to end: a vTPM quote whose key the HCL runtime data names, bound by the TD quote's
REPORTDATA; the quote checked against the azureTDX minimums. Quotes from the software platform are re-signed under a
test root, so a passing TCB evaluation is stood in for here; test_tdx.py runs it on Intel's real collateral."""

from __future__ import annotations

import pytest
from azure_tdx_evidence import OID, QUOTE, conf, instance_info, validator
from cryptography.hazmat.primitives.asymmetric import rsa
from tdx_documents import flip_quote_signature
from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._variants import VariantConfigError
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed


def test_genuine_evidence_passes(tdx_collateral, tcb_up_to_date):
    evidence = validator(tdx_collateral).validate(node_certificate(oid=OID, instance_info=instance_info()), NONCE)
    assert evidence["variant"] == "azure-tdx" and evidence["platform"]["xfam"] == QUOTE.xfam.hex()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("runtime data naming another key", "not the one the HCL runtime data names"),
        ("tee tcb svn below minimum", "TEE_TCB_SVN .* is below the minimum"),
        ("another xfam", "xfam is e702060000000000, not"),
        ("debug attributes", "allow debugging"),
        ("wrong measurement", "untrusted measurement value .* at index 9"),
        ("quote signature", "quote_signature"),
        ("stale nonce", "another nonce"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(tdx_collateral, tcb_up_to_date, tamper, message):
    config, info, pcrs = conf(), instance_info(), None
    if tamper == "runtime data naming another key":
        info = instance_info(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    elif tamper == "tee tcb svn below minimum":
        config = conf(teeTCBSVN="ff" + "00" * 15)
    elif tamper == "another xfam":
        config = conf(xfam="e71a060000000000")
    elif tamper == "debug attributes":
        info = instance_info(changes={0xA8: bytes.fromhex("0100001000000000")})
    elif tamper == "wrong measurement":
        pcrs = {**PCRS, 9: b"\x09" * 32}
    elif tamper == "quote signature":
        info = instance_info(after_signing=flip_quote_signature)
    nonce = b"s" * 32 if tamper == "stale nonce" else NONCE
    with pytest.raises(AttestationFailed, match=message):
        validator(tdx_collateral, config).validate(
            node_certificate(nonce=nonce, oid=OID, instance_info=info, pcrs=pcrs), NONCE
        )


def test_an_out_of_date_tcb_is_refused(tdx_collateral, tcb_out_of_date):
    with pytest.raises(AttestationFailed, match="OutOfDate"):
        validator(tdx_collateral).validate(node_certificate(oid=OID, instance_info=instance_info()), NONCE)


def test_without_collateral_the_node_is_refused_and_the_file_is_named(tmp_path):
    with pytest.raises(AttestationFailed, match="no collateral for FMSPC B0C06F000000"):
        validator(tmp_path).validate(node_certificate(oid=OID, instance_info=instance_info()), NONCE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"qeSVN": "latest"}, "qeSVN is 'latest'"),
        ({"xfam": "e702"}, "xfam must be 8 bytes"),
        (
            {"intelRootKey": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
            "intelRootKey is not Intel's",
        ),
    ],
)
def test_config_errors_are_named(tmp_path, change, message):
    with pytest.raises(VariantConfigError, match=message):
        constellation_validator("azure-tdx", conf(**change), "conf.yaml", collateral_dir=str(tmp_path))
