# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""azure-sev-snp: the configuration, the ID-key digest rule, the HCL runtime-data binding, and the SNP evidence."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fixture_files import FIXTURES as FIXTURE_ROOT

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._azure_snp import (
    AzureInstanceInfo,
    AzureSnpError,
    check_id_key_digest,
    check_runtime_data,
    parse_config,
    parse_instance_info,
    trusted_ak,
)

SNP = FIXTURE_ROOT / "snp"
NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
DIGEST = bytes.fromhex(
    "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3"
)
SECTION = {
    "bootloaderVersion": 3,
    "teeVersion": 0,
    "snpVersion": 8,
    "microcodeVersion": 115,
    "firmwareSignerConfig": {"acceptedKeyDigests": [DIGEST.hex()], "enforcementPolicy": "MAAFallback"},
}


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode().rstrip("=")


def runtime_data(key) -> bytes:
    numbers = key.public_key().public_numbers()
    return json.dumps(
        {
            "keys": [{"kid": "HCLAkPub", "key_ops": ["encrypt"], "kty": "RSA", "e": "AQAB", "n": _b64url(numbers.n)}],
            "vm-configuration": {"secure-boot": True},
        }
    ).encode()


def test_the_config_gives_the_minimum_tcb_and_the_digest_rule():
    config = parse_config(SECTION)
    tcb = config.minimum_tcb
    assert (tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode) == (3, 0, 8, 115)
    assert config.accepted_key_digests == (DIGEST,) and config.enforcement == "maafallback"


@pytest.mark.parametrize(
    ("policy", "expected"), [(True, "equal"), (False, "warnonly"), ("WarnOnly", "warnonly"), ("EQUAL", "equal")]
)
def test_enforcement_policy_forms(policy, expected):
    section = dict(SECTION, firmwareSignerConfig={"acceptedKeyDigests": [], "enforcementPolicy": policy})
    assert parse_config(section).enforcement == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"snpVersion": "latest"}, "give the number"),
        ({"teeVersion": 300}, "0 to 255"),
        ({"firmwareSignerConfig": {"acceptedKeyDigests": ["abcd"]}}, "not 48 bytes"),
        ({"firmwareSignerConfig": {"enforcementPolicy": "Sometimes"}}, "not Equal, MAAFallback or WarnOnly"),
    ],
)
def test_config_errors_are_clear(change, message):
    with pytest.raises(AzureSnpError, match=message):
        parse_config(dict(SECTION, **change))


def test_the_id_key_digest_rule():
    warnings = []
    check_id_key_digest(DIGEST, parse_config(SECTION), warnings.append)
    other = b"\x57" * 48
    with pytest.raises(AzureSnpError, match="Microsoft Azure Attestation"):
        check_id_key_digest(other, parse_config(SECTION), warnings.append)
    equal = dict(SECTION, firmwareSignerConfig={"acceptedKeyDigests": [DIGEST.hex()], "enforcementPolicy": "Equal"})
    with pytest.raises(AzureSnpError, match="not in acceptedKeyDigests"):
        check_id_key_digest(other, parse_config(equal), warnings.append)
    warn_only = dict(SECTION, firmwareSignerConfig={"acceptedKeyDigests": [], "enforcementPolicy": "WarnOnly"})
    check_id_key_digest(other, parse_config(warn_only), warnings.append)
    assert len(warnings) == 1 and "WarnOnly" in warnings[0]


def test_the_runtime_data_binds_the_attestation_key():
    ak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = runtime_data(ak)
    report_data = hashlib.sha256(data).digest() + bytes(32)
    check_runtime_data(data, report_data, ak.public_key())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AzureSnpError, match="not the one the HCL runtime data names"):
        check_runtime_data(data, report_data, other.public_key())
    with pytest.raises(AzureSnpError, match="does not bind"):
        check_runtime_data(data + b" ", report_data, ak.public_key())


def test_instance_info_needs_the_azure_section():
    with pytest.raises(AzureSnpError, match="no Azure section"):
        parse_instance_info(json.dumps({"ReportSigner": "", "AttestationReport": ""}).encode())


def test_the_snp_evidence_is_checked_before_the_key_is_trusted():
    """A real Milan report and VCEK: the chain and signature hold, but the guest allows debugging."""
    info = AzureInstanceInfo(
        report_signer=(SNP / "milan-vcek.der").read_bytes(),
        cert_chain=b"",
        attestation_report=(SNP / "milan-report.bin").read_bytes() + bytes(20),
        runtime_data=b"{}",
        maa_token="",
    )
    config = parse_config(dict(SECTION, bootloaderVersion=2, snpVersion=5, microcodeVersion=68))
    ak = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(AzureSnpError, match="allows debugging"):
        trusted_ak(info, ak, config, NOW, lambda message: None)
    with pytest.raises(AzureSnpError, match="below the minimum"):
        trusted_ak(info, ak, parse_config(dict(SECTION, snpVersion=9)), NOW, lambda message: None)
