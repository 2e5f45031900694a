# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The aws-sev-snp validator end to end: a vTPM quote whose key a VLEK-signed SEV-SNP report names by the SHA-512
of its SubjectPublicKeyInfo. Genuine evidence passes; each tampered form fails and says why."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from snp_documents import SoftwareSnp, aws_config, aws_instance_info, flip_report_signature
from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

OID = "1.3.9900.2.2"
PLATFORM = SoftwareSnp(vlek=True)


def validator(platform=PLATFORM, config=None):
    return constellation_validator(
        "aws-sev-snp",
        config or aws_config(platform),
        "conf.yaml",
        lambda message: None,
        trust_anchor=platform.pem(platform.ark),
    )


def test_genuine_evidence_passes_and_names_the_cloud():
    evidence = validator().validate(node_certificate(oid=OID, instance_info=aws_instance_info(PLATFORM)), NONCE)
    assert evidence["variant"] == "aws-sev-snp"
    assert (
        evidence["platform"]["signer"] == "vlek" and evidence["platform"]["csp_id"] == "CN=cc-eu-west-1.amazonaws.com"
    )


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("debug policy", "allows debugging"),
        ("launch tcb below minimum", r"launch TCB .* is below the minimum"),
        ("report data bound to another key", "REPORT_DATA does not bind this connection"),
        ("a vcek instead of a vlek", "AWS reports are signed by a VLEK; this one came with a VCEK"),
        ("wrong measurement", "untrusted measurement value .* at index 11"),
        ("stale nonce", "another nonce"),
        ("expired chain", "the VLEK is valid from"),
        ("report signature", "signature does not verify with the VLEK"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(tamper, message):
    platform, nonce, pcrs, report = PLATFORM, NONCE, None, {}
    ak = None
    if tamper == "debug policy":
        report = {"policy": 0x30000 | 1 << 19}
    elif tamper == "launch tcb below minimum":
        platform = SoftwareSnp(vlek=True, tcb={"bootloader": 2})
    elif tamper == "report data bound to another key":
        ak = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    elif tamper == "a vcek instead of a vlek":
        platform = SoftwareSnp()
    elif tamper == "wrong measurement":
        pcrs = {**PCRS, 11: b"\x11" * 32}
    elif tamper == "stale nonce":
        nonce = b"s" * 32
    elif tamper == "expired chain":
        platform = SoftwareSnp(vlek=True, vcek_days=(-400, -1))
    info = aws_instance_info(platform, ak_public=ak, **report)
    if tamper == "report signature":
        info = flip_report_signature(info)
    cert = node_certificate(nonce=nonce, oid=OID, instance_info=info, pcrs=pcrs)
    with pytest.raises(AttestationFailed, match=message):
        validator(platform).validate(cert, NONCE)
