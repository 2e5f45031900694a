# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""aws-nitro-tpm evidence: an instance identity, the configuration, and the saved DescribeImages answer."""

from __future__ import annotations

import json

from vtpm_documents import NONCE, PCRS, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)

OID = "1.3.9900.2.1"
IDENTITY = json.dumps(
    {
        "accountId": "123456789012",
        "imageId": "ami-0abcdef1234567890",
        "instanceId": "i-0123456789abcdef0",
        "instanceType": "m6a.xlarge",
        "region": "eu-west-1",
        "availabilityZone": "eu-west-1a",
    }
).encode()
CONF = {"attestation": {"awsNitroTPM": {"measurements": {4: {"expected": PCRS[4].hex(), "warnOnly": False}}}}}


def save_describe_images(directory, tpm_support="v2.0"):
    path = directory / "aws" / "eu-west-1" / "ami-0abcdef1234567890.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    image = {"ImageId": "ami-0abcdef1234567890", "Name": "constellation-v2.23.1", "BootMode": "uefi"}
    if tpm_support:
        image["TpmSupport"] = tpm_support
    path.write_text(json.dumps({"Images": [image]}))


def validate(directory):
    validator = constellation_validator("aws-nitro-tpm", CONF, "conf.yaml", collateral_dir=str(directory))
    return validator.validate(node_certificate(oid=OID, instance_info=IDENTITY), NONCE)
