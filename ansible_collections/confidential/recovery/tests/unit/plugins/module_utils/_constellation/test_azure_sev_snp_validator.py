# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The azure-sev-snp validator end to end: an aTLS certificate carrying a vTPM quote whose key an SEV-SNP report
vouches for, checked against constellation-conf.yaml. Genuine evidence passes; each tampered form fails and says why."""

from __future__ import annotations

import pytest
import snp_documents
from cryptography.hazmat.primitives.asymmetric import rsa
from snp_documents import SoftwareSnp, azure_config, azure_instance_info, flip_report_signature
from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._variants import VariantConfigError
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_roots import ARKS
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

OID = "1.3.9900.4.1"
PLATFORM = SoftwareSnp()


def validator(config=None, warnings=None, trust_anchor=None, platform=PLATFORM):
    anchor = platform.pem(platform.ark) if trust_anchor is None else trust_anchor or None
    return constellation_validator(
        "azure-sev-snp",
        config or azure_config(platform),
        "conf.yaml",
        (warnings if warnings is not None else []).append,
        trust_anchor=anchor,
    )


def certificate(platform=PLATFORM, **kwargs):
    return node_certificate(oid=OID, instance_info=azure_instance_info(platform, **kwargs))


def test_genuine_evidence_passes_and_names_what_it_presented():
    warnings = []
    evidence = validator(warnings=warnings).validate(certificate(), NONCE)
    assert evidence["variant"] == "azure-sev-snp"
    assert evidence["measurements"]["4"] == PCRS[4].hex()
    platform = evidence["platform"]
    assert platform["reported_tcb"] == snp_documents.TCB and platform["chip_id"] == snp_documents.CHIP_ID.hex()
    assert platform["product"] == "Milan" and platform["signer"] == "vcek" and platform["policy"] == "0x30000"
    assert len(warnings) == 1 and "attestation_trust_anchor" in warnings[0]


def test_a_root_that_is_not_amds_is_refused_unless_given_explicitly():
    with pytest.raises(
        AttestationFailed,
        match="SEV-SNP evidence: the SEV-Milan that came with the evidence: the signature does not verify",
    ):
        validator(trust_anchor=b"").validate(certificate(), NONCE)
    lab_root_in_config = azure_config(PLATFORM, amdRootKey=PLATFORM.pem(PLATFORM.ark).decode())
    with pytest.raises(VariantConfigError, match="amdRootKey is not one of AMD's ARKs"):
        validator(config=lab_root_in_config, trust_anchor=b"")
    validator(config=azure_config(PLATFORM, amdRootKey=ARKS["Milan"]), trust_anchor=b"")  # AMD's own: accepted


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("signature", "signature does not verify with the VCEK"),
        ("expired chain", "the VCEK is valid from"),
        ("debug policy", "allows debugging"),
        ("tcb below minimum", r"reported TCB \(bl 3, tee 0, snp 7, ucode 115\) is below the minimum"),
        ("wrong measurement", "untrusted measurement value .* at index 9"),
        ("stale nonce", "another nonce"),
        ("report data bound to another key", "not the one the HCL runtime data names"),
        ("unknown id key", "ID key digest .* is not in acceptedKeyDigests"),
    ],
)
def test_each_tampered_form_fails_and_names_the_check(tamper, message):
    platform, config, nonce = PLATFORM, None, NONCE
    instance_info, pcrs = azure_instance_info(PLATFORM), None
    if tamper == "signature":
        instance_info = flip_report_signature(instance_info)
    elif tamper == "expired chain":
        platform = SoftwareSnp(vcek_days=(-400, -1))
        instance_info = azure_instance_info(platform)
    elif tamper == "debug policy":
        instance_info = azure_instance_info(PLATFORM, policy=0x30000 | 1 << 19)
    elif tamper == "tcb below minimum":
        platform = SoftwareSnp(tcb={"snp": 7})
        instance_info = azure_instance_info(platform)
    elif tamper == "wrong measurement":
        pcrs = {**PCRS, 9: b"\x09" * 32}
    elif tamper == "stale nonce":
        nonce = b"s" * 32
    elif tamper == "report data bound to another key":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        instance_info = azure_instance_info(PLATFORM, ak_public=other)
    elif tamper == "unknown id key":
        config = azure_config(
            PLATFORM, firmwareSignerConfig={"acceptedKeyDigests": ["00" * 48], "enforcementPolicy": "Equal"}
        )
    cert = node_certificate(nonce=nonce, oid=OID, instance_info=instance_info, pcrs=pcrs)
    with pytest.raises(AttestationFailed, match=message):
        validator(config=config or azure_config(platform), platform=platform).validate(cert, NONCE)


def test_warn_only_id_key_digest_passes_with_a_warning():
    warnings = []
    config = azure_config(
        PLATFORM, firmwareSignerConfig={"acceptedKeyDigests": ["00" * 48], "enforcementPolicy": "WarnOnly"}
    )
    checker = validator(config=config, warnings=warnings)
    assert [w for w in warnings if "enforcementPolicy is WarnOnly" in w]  # said once per use, before any node
    evidence = checker.validate(certificate(), NONCE)
    assert any("is not in acceptedKeyDigests (enforcementPolicy WarnOnly)" in w for w in warnings)
    assert evidence["caveats"] == ["id_key_digests_warn_only"] and evidence["hardware_root"] is True
    assert [c["condition"] for c in checker.caveats] == ["id_key_digests_warn_only"]


def test_enforced_id_key_digests_carry_no_caveat():
    warnings = []
    evidence = validator(warnings=warnings).validate(certificate(), NONCE)
    assert evidence["caveats"] == [] and not [w for w in warnings if "WarnOnly" in w]


def test_latest_firmware_versions_are_refused_with_the_reason():
    with pytest.raises(VariantConfigError, match="bootloaderVersion is 'latest'"):
        validator(config=azure_config(PLATFORM, bootloaderVersion="latest"))
