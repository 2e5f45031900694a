# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's aws-nitro-tpm variant: the instance's image must support NitroTPM (Constellation v2.x,
internal/attestation/aws/nitrotpm).

InstanceInfo is the EC2 instance identity document, unsigned; upstream asks EC2 DescribeImages for its imageId and
requires TpmSupport "v2.0". Here the DescribeImages answer is read from the collateral directory, where the user
saved it beforehand (``aws/<region>/<image id>.json``); nothing here calls the EC2 API. The attestation key is
trusted as the document carries it, as upstream does.
"""

from __future__ import annotations

import json
import os
import re

# The identity document's keys, as aws-sdk-go-v2's imds.InstanceIdentityDocument marshals them (UNCONFIRMED casing;
# the camelCase of EC2's own identity document is assumed).
IMAGE_ID_KEY, REGION_KEY = "imageId", "region"
_IMAGE_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")


class AwsNitroError(Exception):
    """The image cannot be shown to support NitroTPM; the message says why."""


def image_of(instance_info: bytes) -> tuple[str, str]:
    try:
        identity = json.loads(instance_info or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsNitroError("InstanceInfo is not the instance identity document (not JSON)") from exc
    if not isinstance(identity, dict):
        raise AwsNitroError("InstanceInfo is not the instance identity document")
    image, region = identity.get(IMAGE_ID_KEY), identity.get(REGION_KEY)
    if (
        not isinstance(image, str)
        or not _IMAGE_ID.match(image)
        or not isinstance(region, str)
        or not _REGION.match(region)
    ):
        raise AwsNitroError(f"the identity document names no valid image and region: {image!r}, {region!r}")
    return region, image


def check_image(instance_info: bytes, collateral_dir: str | None) -> None:
    region, image = image_of(instance_info)
    capture = f"aws ec2 describe-images --region {region} --image-ids {image} --output json"
    relative = os.path.join("aws", region, f"{image}.json")
    if not collateral_dir:
        raise AwsNitroError(
            f"whether {image} supports NitroTPM comes from EC2: set attestation_collateral_dir and save "
            f"the output of `{capture}` as {relative} in it"
        )
    path = os.path.join(collateral_dir, relative)
    try:
        with open(path, encoding="utf-8") as handle:
            answer = json.load(handle)
    except OSError as exc:
        raise AwsNitroError(
            f"no DescribeImages answer for {image} at {path} ({exc.strerror}): save the output of `{capture}` there"
        ) from exc
    except ValueError as exc:
        raise AwsNitroError(f"{path} is not JSON") from exc
    images = answer.get("Images") if isinstance(answer, dict) else None
    if not images or not isinstance(images[0], dict) or images[0].get("ImageId") != image:
        raise AwsNitroError(f"{path} does not describe {image}")
    support = images[0].get("TpmSupport")
    if support != "v2.0":
        raise AwsNitroError(f"{image} has TpmSupport {support!r}, not 'v2.0': it does not boot with NitroTPM")
