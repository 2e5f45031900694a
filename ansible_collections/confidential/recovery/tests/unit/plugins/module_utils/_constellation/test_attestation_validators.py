# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The aTLS validators a module picks: qemu-vtpm with the user's constellation-conf.yaml, and refusals."""

from __future__ import annotations

import pytest
import yaml
from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._attestation_config import (
    AttestationConfigError,
    reference_measurements,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

QEMU_VTPM_OID = "1.3.9900.5.1"


def conf(warn_only_9=False, pcr4=None):
    """A constellation-conf.yaml as the user keeps it, reduced to its attestation section."""
    return yaml.safe_load(
        yaml.safe_dump(
            {
                "version": "v4",
                "attestation": {
                    "qemuVTPM": {
                        "measurements": {
                            4: {"expected": (pcr4 or PCRS[4]).hex(), "warnOnly": False},
                            9: {"expected": (b"\x99" * 32 if warn_only_9 else PCRS[9]).hex(), "warnOnly": warn_only_9},
                        }
                    }
                },
            }
        )
    )


def validator(config, warnings=None):
    return constellation_validator(
        "qemu-vtpm", config, "constellation-conf.yaml", (warnings if warnings is not None else []).append
    )


def test_a_qemu_vtpm_node_passes_and_its_measurements_are_reported():
    evidence = validator(conf()).validate(node_certificate(), NONCE)
    assert evidence["variant"] == "qemu-vtpm" and evidence["oid"] == QEMU_VTPM_OID and evidence["warnings"] == []
    assert evidence["measurements"]["4"] == PCRS[4].hex() and len(evidence["measurements"]) == 24
    assert evidence["platform"] == {}


def test_a_quote_whose_signature_is_broken_is_refused():
    with pytest.raises(AttestationFailed, match="the quote's signature does not verify with the attestation key"):
        validator(conf()).validate(node_certificate(flip_quote_signature=True), NONCE)


def test_a_warn_only_mismatch_reaches_the_user_as_a_warning():
    warnings = []
    validator(conf(warn_only_9=True), warnings).validate(node_certificate(), NONCE)
    mismatches = [w for w in warnings if "at index 9" in w]
    assert len(mismatches) == 1 and "warn-only" in mismatches[0]


def test_qemu_vtpm_says_on_every_use_that_it_has_no_hardware_root_and_the_evidence_says_so_too():
    for _use in range(2):
        warnings = []
        evidence = validator(conf(), warnings).validate(node_certificate(), NONCE)
        assert len([w for w in warnings if "has no hardware root of trust" in w]) == 1
        assert "attestation qemu-vtpm (attestation: qemu-vtpm)" in warnings[0]
    assert evidence["hardware_root"] is False and evidence["caveats"] == ["no_hardware_root"]


def test_auto_says_which_variant_it_picked_from_which_key():
    warnings = []
    picked = constellation_validator("auto", conf(), "constellation-conf.yaml", warnings.append)
    assert picked.variant == "qemu-vtpm"
    assert picked.selection == "picked by attestation: auto from attestation.qemuVTPM in constellation-conf.yaml"
    assert any(picked.selection in w and "no hardware root" in w for w in warnings)
    # Every node's evidence, and so the report, says it too.
    assert picked.validate(node_certificate(), NONCE)["selected_by"] == picked.selection
    assert validator(conf()).validate(node_certificate(), NONCE)["selected_by"] == "attestation: qemu-vtpm"


def test_a_configuration_that_enforces_no_measurement_is_a_caveat():
    warnings = []
    every_one_warn_only = yaml.safe_load(
        yaml.safe_dump(
            {
                "attestation": {
                    "qemuVTPM": {
                        "measurements": {
                            4: {"expected": PCRS[4].hex(), "warnOnly": True},
                            9: {"expected": PCRS[9].hex(), "warnOnly": True},
                        }
                    }
                }
            }
        )
    )
    checker = validator(every_one_warn_only, warnings)
    assert any("every measurement of qemu-vtpm is warnOnly" in w for w in warnings)
    assert [c["condition"] for c in checker.caveats] == ["no_hardware_root", "measurements_warn_only"]
    assert "measurements_warn_only" not in [c["condition"] for c in validator(conf(warn_only_9=True)).caveats]


def test_an_enforced_mismatch_refuses_the_node():
    with pytest.raises(AttestationFailed, match="at index 4"):
        validator(conf(pcr4=b"\x44" * 32)).validate(node_certificate(), NONCE)


def test_a_document_for_another_certificate_is_refused():
    with pytest.raises(AttestationFailed, match="certificate hash does not match user data"):
        validator(conf()).validate(node_certificate(bind=False), NONCE)


def test_a_replayed_certificate_is_refused():
    with pytest.raises(AttestationFailed, match="another nonce"):
        validator(conf()).validate(node_certificate(nonce=b"x" * 32), NONCE)


def test_a_lab_certificate_is_not_a_qemu_vtpm_one():
    with pytest.raises(AttestationFailed, match="want 1.3.9900.5.1"):
        validator(conf()).validate(node_certificate(oid="1.3.9900.1.1"), NONCE)


def test_without_reference_values_a_hardware_variant_is_refused():
    with pytest.raises(NotImplementedError, match="needs reference values"):
        constellation_validator("qemu-vtpm")


def test_variants_without_a_validator_are_refused():
    with pytest.raises(NotImplementedError, match="no validator"):
        constellation_validator("azure-trustedlaunch", conf())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "no attestation section"),
        (
            {"attestation": {"azureSEVSNP": {"measurements": {4: "00" * 32}}}},
            "configures attestation azureSEVSNP, not qemuVTPM",
        ),
        ({"attestation": {"qemuVTPM": {"measurements": {4: "00"}}}}, "32 or 48"),
    ],
)
def test_the_config_must_give_reference_values_for_the_variant(config, message):
    with pytest.raises(AttestationConfigError, match=message):
        reference_measurements(config, "qemu-vtpm", "constellation-conf.yaml")


def test_auto_takes_the_variant_from_the_config():
    assert constellation_validator("auto", conf(), "constellation-conf.yaml").variant == "qemu-vtpm"
    evidence = constellation_validator("auto", conf(), "constellation-conf.yaml").validate(node_certificate(), NONCE)
    assert evidence["variant"] == "qemu-vtpm"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"attestation": {"qemuVTPM": {}, "azureSEVSNP": {}}}, "exactly one variant, found azureSEVSNP, qemuVTPM"),
        ({"attestation": {"ibmSEL": {}}}, "attestation.ibmSEL is no variant this collection knows"),
        ({}, "exactly one variant, found nothing"),
    ],
)
def test_auto_needs_exactly_one_known_variant(config, message):
    with pytest.raises(AttestationConfigError, match=message):
        constellation_validator("auto", config, "constellation-conf.yaml")


def test_auto_without_a_config_is_refused():
    with pytest.raises(NotImplementedError, match="give attestation_config"):
        constellation_validator("auto")
