# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The attestation variants a module may be asked for, by name, and the OIDs of their aTLS certificate extensions.
Names only: each product's validators are in its own subpackage, so a module bundles only its product's code."""

from __future__ import annotations

# Constellation: 1.3.9900.<provider>.<variant>
CONSTELLATION_OIDS = {
    "dummy": "1.3.9900.1.1",
    "aws-nitro-tpm": "1.3.9900.2.1",
    "aws-sev-snp": "1.3.9900.2.2",
    "gcp-sev-es": "1.3.9900.3.1",
    "gcp-sev-snp": "1.3.9900.3.2",
    "azure-sev-snp": "1.3.9900.4.1",
    "azure-trustedlaunch": "1.3.9900.4.2",
    "azure-tdx": "1.3.9900.4.3",
    "qemu-vtpm": "1.3.9900.5.1",
    "qemu-tdx": "1.3.9900.5.99",
}


# Contrast: 1.3.9901.2.<platform>; the attestation option names them as here (snp, tdx) for the Coordinator.
CONTRAST_OIDS = {
    "snp": "1.3.9901.2.1",
    "tdx": "1.3.9901.2.2",
    "insecure": "1.3.9901.2.3",
}


# Where Intel's TDX collateral is fetched from when the user allows a download and names no PCCS.
INTEL_PCS_URL = "https://api.trustedservices.intel.com"


LAB = "lab"


AUTO = "auto"  # Constellation: the variant constellation-conf.yaml configures


HARDWARE_VARIANTS = sorted(v for v in CONSTELLATION_OIDS if v != "dummy")


CONSTELLATION_ATTESTATION_CHOICES = [LAB, AUTO] + HARDWARE_VARIANTS
CONTRAST_ATTESTATION_CHOICES = [LAB, "snp", "tdx"]  # the Coordinator's platforms that have a validator
ATTESTATION_CHOICES = CONSTELLATION_ATTESTATION_CHOICES + ["snp", "tdx"]


LAB_WARNING = (
    "attestation: lab accepts the lab twin's test attestation (Constellation 'dummy', Contrast "
    "'insecure'). It proves nothing about the hardware: never use it against a production cluster."
)
