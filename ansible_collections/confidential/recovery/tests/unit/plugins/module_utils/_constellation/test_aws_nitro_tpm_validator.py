# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The aws-nitro-tpm validator end to end: the vTPM quote, and the image's NitroTPM support from the DescribeImages
answer saved in the collateral directory."""

from __future__ import annotations

import pytest
from aws_nitro_tpm_evidence import save_describe_images, validate

from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed


def test_an_image_with_nitro_tpm_passes(tmp_path):
    save_describe_images(tmp_path)
    assert validate(tmp_path)["variant"] == "aws-nitro-tpm"


def test_an_image_without_tpm_support_is_refused(tmp_path):
    save_describe_images(tmp_path, tpm_support=None)
    with pytest.raises(AttestationFailed, match="has TpmSupport None, not 'v2.0'") as failure:
        validate(tmp_path)
    assert failure.value.check == "platform"


def test_without_the_saved_answer_the_file_and_the_command_are_named(tmp_path):
    with pytest.raises(AttestationFailed, match=r"aws/eu-west-1/ami-0abcdef1234567890.json .*aws ec2 describe-images"):
        validate(tmp_path)
