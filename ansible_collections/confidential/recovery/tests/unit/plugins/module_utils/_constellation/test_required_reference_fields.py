# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit table's promise (docs/attestation.md): every reference value a variant requires is refused when it is
missing, before any peer is asked; a check is never "not checked, so passed"."""

from __future__ import annotations

import copy

import aws_nitro_tpm_evidence as nitro
import azure_tdx_evidence as azure_tdx
import pytest
import qemu_tdx_evidence as qemu_tdx
from snp_documents import SoftwareSnp, aws_config, azure_config, gcp_config
from vtpm_documents import PCRS

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._attestation_config import (
    AttestationConfigError,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._variants import VariantConfigError

SNP = SoftwareSnp()
MEASURED = {"measurements": {i: {"expected": PCRS[i].hex(), "warnOnly": False} for i in (0, 4)}}
SNP_TCB = ("bootloaderVersion", "teeVersion", "snpVersion", "microcodeVersion")

# variant -> (its constellation-conf.yaml, the config key, the settings it requires)
REQUIRED = {
    "qemu-vtpm": ({"attestation": {"qemuVTPM": copy.deepcopy(MEASURED)}}, "qemuVTPM", ("measurements",)),
    "aws-nitro-tpm": (nitro.CONF, "awsNitroTPM", ("measurements",)),
    "gcp-sev-es": ({"attestation": {"gcpSEVES": copy.deepcopy(MEASURED)}}, "gcpSEVES", ("measurements",)),
    "azure-sev-snp": (azure_config(SNP), "azureSEVSNP", ("measurements",) + SNP_TCB),
    "aws-sev-snp": (aws_config(SNP), "awsSEVSNP", ("measurements",) + SNP_TCB),
    "gcp-sev-snp": (gcp_config(), "gcpSEVSNP", ("measurements",) + SNP_TCB),
    "azure-tdx": (
        azure_tdx.conf(),
        "azureTDX",
        ("measurements", "qeSVN", "pceSVN", "teeTCBSVN", "qeVendorID", "xfam", "mrSeam"),
    ),
    "qemu-tdx": (qemu_tdx.conf(), "qemuTDX", ("measurements",)),
}
CASES = [(variant, setting) for variant, (_conf, _key, settings) in REQUIRED.items() for setting in settings]


def build(variant: str, config: dict, tmp_path):
    return constellation_validator(
        variant,
        config,
        "constellation-conf.yaml",
        lambda message: None,
        trust_anchor=SNP.pem(SNP.ark) if "snp" in variant else None,
        collateral_dir=str(tmp_path),
    )


@pytest.mark.parametrize("variant", sorted(REQUIRED))
def test_each_complete_configuration_builds_a_validator(variant, tmp_path):
    config, _key, _settings = REQUIRED[variant]
    assert build(variant, copy.deepcopy(config), tmp_path).variant == variant


@pytest.mark.parametrize(("variant", "setting"), CASES, ids=[f"{v}-{s}" for v, s in CASES])
def test_a_configuration_without_a_required_setting_is_refused_and_names_it(variant, setting, tmp_path):
    config, key, _settings = REQUIRED[variant]
    incomplete = copy.deepcopy(config)
    del incomplete["attestation"][key][setting]
    with pytest.raises((AttestationConfigError, VariantConfigError)) as refused:
        build(variant, incomplete, tmp_path)
    assert setting in str(refused.value) or (setting == "measurements" and "measurements" in str(refused.value))


@pytest.mark.parametrize("variant", sorted(REQUIRED))
def test_an_empty_measurement_list_is_refused(variant, tmp_path):
    config, key, _settings = REQUIRED[variant]
    incomplete = copy.deepcopy(config)
    incomplete["attestation"][key]["measurements"] = {}
    with pytest.raises(AttestationConfigError, match="non-empty"):
        build(variant, incomplete, tmp_path)
