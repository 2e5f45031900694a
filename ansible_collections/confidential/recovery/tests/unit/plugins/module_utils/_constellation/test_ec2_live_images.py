# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""aws-nitro-tpm asks EC2's DescribeImages whether the node's image supports NitroTPM, through boto3 (against moto,
or a botocore Stubber where moto keeps no TpmSupport); the saved answer is read only when EC2 cannot be asked."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_nitro_tpm_evidence import CONF, IDENTITY, OID, save_describe_images
from botocore.stub import Stubber
from vtpm_documents import NONCE, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _aws
from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _aws_nitro
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._module import ec2_images
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

REGION, IMAGE = json.loads(IDENTITY)["region"], json.loads(IDENTITY)["imageId"]


def images(collateral_dir=None, region=REGION, endpoint_url=None):
    access = {"region": region, "profile": None, "endpoint_url": endpoint_url}
    return ec2_images({"attestation_aws_api": access, "attestation_collateral_dir": collateral_dir, "timeout": 2})


def validate(source):
    validator = constellation_validator("aws-nitro-tpm", CONF, "conf.yaml", ec2_images=source)
    return validator.validate(node_certificate(oid=OID, instance_info=IDENTITY), NONCE)


def test_an_image_ec2_reports_with_nitro_tpm_passes(monkeypatch, aws_env):
    ec2 = boto3.client("ec2", region_name=REGION)
    stubber = Stubber(ec2)
    answer = {"Images": [{"ImageId": IMAGE, "Name": "constellation-v2.23.1", "TpmSupport": "v2.0"}]}
    stubber.add_response("describe_images", answer, {"ImageIds": [IMAGE]})
    monkeypatch.setattr(_aws, "client", lambda *args, **kwargs: ec2)
    with stubber:
        assert validate(images())["variant"] == "aws-nitro-tpm"
    stubber.assert_no_pending_responses()


def test_an_image_ec2_reports_without_tpm_support_is_refused(aws_env):
    ec2 = boto3.client("ec2", region_name=REGION)
    registered = ec2.register_image(
        Name="not-nitro",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    identity = IDENTITY.replace(IMAGE.encode(), registered.encode())
    validator = constellation_validator("aws-nitro-tpm", CONF, "conf.yaml", ec2_images=images())
    with pytest.raises(AttestationFailed, match=f"{registered} has TpmSupport None, not 'v2.0'"):
        validator.validate(node_certificate(oid=OID, instance_info=identity), NONCE)


def test_an_image_ec2_does_not_know_is_refused_even_with_a_saved_answer(aws_env, tmp_path):
    save_describe_images(tmp_path)
    with pytest.raises(AttestationFailed, match=f"EC2 has no image {IMAGE} in {REGION}"):
        validate(images(str(tmp_path)))


def test_a_node_naming_another_region_is_refused_without_asking(monkeypatch):
    monkeypatch.setattr(_aws, "client", lambda *args, **kwargs: pytest.fail("EC2 was asked"))
    with pytest.raises(AttestationFailed, match="names region eu-west-1, but the cluster runs in us-east-2"):
        validate(images(region="us-east-2"))


def test_when_ec2_cannot_be_asked_the_saved_answer_decides(aws_env, tmp_path):
    save_describe_images(tmp_path)
    assert validate(images(str(tmp_path), endpoint_url="http://127.0.0.1:1"))["variant"] == "aws-nitro-tpm"


def test_with_neither_an_answer_nor_a_saved_one_both_reasons_are_named(aws_env, tmp_path):
    with pytest.raises(AttestationFailed, match=r"EC2 could not be asked \(.*\), and no DescribeImages answer"):
        validate(images(str(tmp_path), endpoint_url="http://127.0.0.1:1"))


def test_without_access_only_the_saved_answer_is_read(tmp_path):
    assert isinstance(ec2_images({"attestation_collateral_dir": str(tmp_path)}), _aws_nitro.SavedImages)
