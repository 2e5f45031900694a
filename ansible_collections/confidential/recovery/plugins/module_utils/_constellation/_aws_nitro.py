# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's aws-nitro-tpm variant: the instance's image must support NitroTPM (Constellation v2.x,
internal/attestation/aws/nitrotpm).

InstanceInfo is the EC2 instance identity document, unsigned; upstream asks EC2 DescribeImages for its imageId and
requires TpmSupport "v2.0". With the inventory's AWS access the question goes to EC2 live (LiveImages); the answer
saved beforehand in the collateral directory (``aws/<region>/<image id>.json``, SavedImages) is the offline fallback,
used only when EC2 cannot be asked. The attestation key is trusted as the document carries it, as upstream does.
"""

from __future__ import annotations

import json
import os
import re

from ._cloud_fallback import live_or_saved

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


class Ec2Unreachable(Exception):
    """EC2 could not be asked: no answer, no credentials, or no permission to describe the image."""


class SavedImages:
    """DescribeImages answers saved beforehand: aws/<region>/<image id>.json in the collateral directory."""

    def __init__(self, collateral_dir: str | None):
        self.collateral_dir = collateral_dir

    def answer(self, region: str, image: str) -> dict:
        capture = f"aws ec2 describe-images --region {region} --image-ids {image} --output json"
        relative = os.path.join("aws", region, f"{image}.json")
        if not self.collateral_dir:
            raise AwsNitroError(
                f"whether {image} supports NitroTPM comes from EC2: give the inventory's AWS access "
                f"(attestation_aws_api), or set attestation_collateral_dir and save the output of `{capture}` as "
                f"{relative} in it"
            )
        path = os.path.join(self.collateral_dir, relative)
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except OSError as exc:
            raise AwsNitroError(
                f"no DescribeImages answer for {image} at {path} ({exc.strerror}): save the output of `{capture}` there"
            ) from exc
        except ValueError as exc:
            raise AwsNitroError(f"{path} is not JSON") from exc


class LiveImages:
    """EC2's DescribeImages answer now, through ``ask(region, image)``. The node's own document names the image and
    region, so only the cluster's region is asked; SavedImages answers only when EC2 cannot be asked."""

    def __init__(self, ask, region: str, saved: SavedImages):
        self.ask, self.region, self.saved = ask, region, saved

    def answer(self, region: str, image: str) -> dict:
        if region != self.region:
            raise AwsNitroError(
                f"the node's identity document names region {region}, but the cluster runs in {self.region}"
            )
        return live_or_saved(
            lambda: self.ask(region, image),
            lambda: self.saved.answer(region, image),
            Ec2Unreachable,
            AwsNitroError,
            "EC2",
        )


def check_image(instance_info: bytes, images) -> None:
    """The image the identity document names supports NitroTPM, by ``images.answer(region, image)``."""
    region, image = image_of(instance_info)
    answer = images.answer(region, image)
    found = answer.get("Images") if isinstance(answer, dict) else None
    if not isinstance(found, list) or not found or not isinstance(found[0], dict) or found[0].get("ImageId") != image:
        raise AwsNitroError(f"EC2's DescribeImages answer does not describe {image}")
    support = found[0].get("TpmSupport")
    if support != "v2.0":
        raise AwsNitroError(f"{image} has TpmSupport {support!r}, not 'v2.0': it does not boot with NitroTPM")
