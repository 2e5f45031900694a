# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The gcp-sev-snp validator end to end: an SEV-SNP report bound to the connection, then the TPM key Compute Engine
reports for the instance, read from the collateral directory. Genuine evidence passes; tampered forms fail by name."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from snp_documents import SoftwareSnp, flip_report_signature, gcp_config, gcp_instance_info, save_gce_key
from vtpm_documents import AK, NONCE, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

OID = "1.3.9900.3.2"
PLATFORM = SoftwareSnp()


def validator(collateral_dir, platform=PLATFORM):
    return constellation_validator(
        "gcp-sev-snp",
        gcp_config(),
        "conf.yaml",
        lambda message: None,
        trust_anchor=platform.pem(platform.ark),
        collateral_dir=str(collateral_dir),
    )


@pytest.fixture
def collateral(tmp_path):
    save_gce_key(tmp_path, AK.public_key())
    return tmp_path


def test_genuine_evidence_passes_with_the_saved_compute_engine_key(collateral):
    evidence = validator(collateral).validate(
        node_certificate(oid=OID, instance_info=gcp_instance_info(PLATFORM)), NONCE
    )
    assert evidence["variant"] == "gcp-sev-snp"
    assert evidence["platform"]["instance"] == "my-project/europe-west3-b/constell-control-plane-0"


def test_without_the_saved_key_the_node_is_refused_and_the_file_is_named(tmp_path):
    with pytest.raises(AttestationFailed, match="gce/my-project/europe-west3-b/constell-control-plane-0.pem"):
        validator(tmp_path).validate(node_certificate(oid=OID, instance_info=gcp_instance_info(PLATFORM)), NONCE)


def test_a_key_compute_engine_does_not_know_is_refused(tmp_path):
    save_gce_key(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    with pytest.raises(AttestationFailed, match="not the one the variant trusts"):
        validator(tmp_path).validate(node_certificate(oid=OID, instance_info=gcp_instance_info(PLATFORM)), NONCE)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("report for another connection", "REPORT_DATA does not bind this connection"),
        ("debug policy", "allows debugging"),
        ("launch tcb below minimum", r"launch TCB .* is below the minimum"),
        ("stale nonce", "REPORT_DATA does not bind this connection"),
        ("report signature", "signature does not verify with the VCEK"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(collateral, tamper, message):
    platform, report, nonce = PLATFORM, {}, NONCE
    instance_info = gcp_instance_info(PLATFORM)
    if tamper == "report for another connection":
        cert = node_certificate(oid=OID, instance_info=lambda extra: instance_info(bytes(32)))
    elif tamper == "report signature":
        cert = node_certificate(oid=OID, instance_info=lambda extra: flip_report_signature(instance_info(extra)))
    else:
        if tamper == "debug policy":
            report = {"policy": 0x30000 | 1 << 19}
        elif tamper == "launch tcb below minimum":
            platform = SoftwareSnp(tcb={"microcode": 100})
        elif tamper == "stale nonce":
            nonce = b"s" * 32
        cert = node_certificate(nonce=nonce, oid=OID, instance_info=gcp_instance_info(platform, **report))
    with pytest.raises(AttestationFailed, match=message):
        validator(collateral, platform).validate(cert, NONCE)
