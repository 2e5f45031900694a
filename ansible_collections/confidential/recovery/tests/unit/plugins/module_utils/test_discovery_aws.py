# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The aws provider against moto: the real boto3 calls, clusters as the CLI's Terraform builds them, and the
failure modes a user meets (no credentials, access denied, throttling, an empty cluster)."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from aws_cluster import REGION, current_cluster, stray_instance, upgraded_cluster

from ansible_collections.confidential.recovery.plugins.module_utils import _discovery_aws
from ansible_collections.confidential.recovery.plugins.module_utils._discovery import DiscoveryError


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials only, and no instance metadata service: nothing may leave this machine."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with mock_aws():
        yield


def ec2():
    return _discovery_aws.client(_discovery_aws.session(), "ec2", REGION, max_attempts=4)


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


def error_first(client, code: str, status: int, times: int = 1) -> list[str]:
    """Answer the next ``times`` DescribeInstances calls with an EC2 error, as AWS does; returns the calls seen."""
    calls = []

    def answer(request, **_kwargs):
        calls.append(request.url)
        if len(calls) > times:
            return None  # on to moto
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{code} for this test</Message></Error></Errors>"
                "<RequestID>c0ffee</RequestID></Response>").encode()
        return AWSResponse(request.url, status, {}, _Raw(body))

    client.meta.events.register_first("before-send.ec2.DescribeInstances", answer)
    return calls


def test_a_current_cluster_is_found_by_its_uid_tag(aws_env):
    current_cluster("9f3c1a7e")
    current_cluster("11111111")  # another cluster in the same region
    found = _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)
    assert [i.role for i in found] == ["control-plane"] * 3 + ["worker"] * 2
    first = found[0]
    assert first.name.startswith("i-") and first.private_ip.startswith("192.168.")
    assert first.node_group == "control_plane_default" and first.status == "running"
    assert first.cloud["auto_scaling_group"] == "constell-9f3c1a7e-control-plane-5e6f7a8b"
    assert first.boot_log == {"source": "aws-console-output", "instance_id": first.name, "region": REGION}


def test_an_upgraded_cluster_with_old_names_and_no_node_group_tag_is_found(aws_env):
    subnet = upgraded_cluster("0c1d2e3f")
    stray_instance(subnet, "0c1d2e3f")
    found = _discovery_aws.instances(ec2(), "0c1d2e3f", REGION)
    assert sorted(i.role for i in found) == ["control-plane"] * 3 + ["worker"]  # the untagged stray is not a node
    assert {i.node_group for i in found} == {"control_plane_default", "worker_default"}


def test_an_empty_cluster_says_where_it_looked(aws_env):
    current_cluster("9f3c1a7e")
    with pytest.raises(DiscoveryError, match="no running instance carries constellation-uid=deadbeef in AWS region eu-west-1"):
        _discovery_aws.instances(ec2(), "deadbeef", REGION)


def test_throttling_is_retried(aws_env):
    current_cluster("9f3c1a7e")
    client = ec2()
    calls = error_first(client, "RequestLimitExceeded", 503, times=2)
    assert len(_discovery_aws.instances(client, "9f3c1a7e", REGION)) == 5
    assert len(calls) == 3  # two throttled attempts, then the answer


def test_access_denied_names_the_permission(aws_env):
    client = ec2()
    calls = error_first(client, "UnauthorizedOperation", 403, times=10)
    with pytest.raises(DiscoveryError, match=r"AWS denied ec2:DescribeInstances in eu-west-1 \(UnauthorizedOperation\).*"
                                             r"needs ec2:DescribeInstances"):
        _discovery_aws.instances(client, "9f3c1a7e", REGION)
    assert len(calls) == 1  # a denial is not retried


def test_no_credentials_says_where_they_come_from(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(DiscoveryError, match="no AWS credentials for ec2:DescribeInstances: set AWS_PROFILE"):
        _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)


def test_an_unknown_profile_is_named(aws_env):
    with pytest.raises(DiscoveryError, match="AWS profile not found"):
        _discovery_aws.session(profile="nobody")
