# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The attestation options, as groups (see _options): the variant, Constellation's reference values and trust anchor,
and the permission to fetch vendor collateral."""

from __future__ import annotations

from .._evidence import _choices
from ._options import OptionGroup

ATTESTATION = OptionGroup(
    "confidential.recovery.attestation",
    dict(
        attestation=dict(type="str", required=True, choices=_choices.ATTESTATION_CHOICES),
        timeout=dict(type="float", default=30),
    ),
)
CONSTELLATION_ATTESTATION = OptionGroup(
    "confidential.recovery.attestation.constellation",
    dict(
        attestation_config=dict(type="path"),
        attestation_trust_anchor=dict(type="path"),
        attestation_collateral_dir=dict(type="path"),
        attestation_gce_api=dict(
            type="dict",
            options=dict(
                project=dict(type="str", required=True),
                auth_kind=dict(
                    type="str", choices=["application", "serviceaccount", "anonymous"], default="application"
                ),
                service_account_file=dict(type="path"),
                api_endpoint=dict(type="str"),
            ),
        ),
        attestation_aws_api=dict(
            type="dict",
            options=dict(
                region=dict(type="str", required=True),
                profile=dict(type="str"),
                endpoint_url=dict(type="str"),
            ),
        ),
    ),
)
COLLATERAL_DOWNLOAD = OptionGroup(
    "confidential.recovery.attestation.collateral_download",
    dict(
        attestation_collateral_download=dict(type="bool", default=False),
        attestation_pccs_url=dict(type="str", default=_choices.INTEL_PCS_URL),
    ),
)
