# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Reference values from the user's own constellation-conf.yaml: its ``attestation`` section has exactly one key,
named after the variant (Constellation v2.x config version v4, internal/config/config.go)."""

from __future__ import annotations

from ._measurements import MeasurementsError, parse_measurements

CONFIG_KEYS = {
    "aws-nitro-tpm": "awsNitroTPM",
    "aws-sev-snp": "awsSEVSNP",
    "azure-sev-snp": "azureSEVSNP",
    "azure-tdx": "azureTDX",
    "azure-trustedlaunch": "azureTrustedLaunch",
    "gcp-sev-es": "gcpSEVES",
    "gcp-sev-snp": "gcpSEVSNP",
    "qemu-tdx": "qemuTDX",
    "qemu-vtpm": "qemuVTPM",
}


class AttestationConfigError(ValueError):
    """The configuration does not give reference values for the variant."""


class VariantConfigError(ValueError):
    """The variant's configuration cannot be used; the message names the setting."""


def configured_variant(config, source: str) -> str:
    """The variant whose key is the only one under ``attestation`` (``attestation: auto``)."""
    section = config.get("attestation") if isinstance(config, dict) else None
    if not isinstance(section, dict) or len(section) != 1:
        found = ", ".join(sorted(section)) if isinstance(section, dict) else "nothing"
        raise AttestationConfigError(
            f"{source}: attestation must configure exactly one variant, found {found or 'nothing'}"
        )
    key = next(iter(section))
    variants = {config_key: variant for variant, config_key in CONFIG_KEYS.items()}
    if key not in variants:
        raise AttestationConfigError(
            f"{source}: attestation.{key} is no variant this collection knows ({', '.join(sorted(variants))})"
        )
    return variants[key]


def variant_section(config, variant: str, source: str) -> dict:
    section = config.get("attestation") if isinstance(config, dict) else None
    if not isinstance(section, dict) or not section:
        raise AttestationConfigError(f"{source} has no attestation section")
    key = CONFIG_KEYS[variant]
    if key not in section:
        raise AttestationConfigError(
            f"{source} configures attestation {', '.join(sorted(section))}, not {key} ({variant})"
        )
    if not isinstance(section[key], dict):
        raise AttestationConfigError(f"{source}: attestation.{key} is not a mapping")
    return section[key]


def reference_measurements(config, variant: str, source: str):
    try:
        return parse_measurements(variant_section(config, variant, source).get("measurements"))
    except MeasurementsError as exc:
        raise AttestationConfigError(f"{source}: attestation.{CONFIG_KEYS[variant]}.measurements: {exc}") from exc
