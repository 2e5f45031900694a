# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The aws provider against moto: the real boto3 calls, clusters as the CLI's Terraform builds them, and the
failure modes a user meets (no credentials, access denied, throttling, an empty cluster)."""

from __future__ import annotations

import time

import pytest
from aws_cluster import REGION, current_cluster, stray_instance, upgraded_cluster
from botocore.awsrequest import AWSResponse

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _aws as _discovery_aws
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError


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
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{code} for this test</Message></Error></Errors>"
            "<RequestID>c0ffee</RequestID></Response>"
        ).encode()
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
    with pytest.raises(
        DiscoveryError, match="no running instance carries constellation-uid=deadbeef in AWS region eu-west-1"
    ):
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
    with pytest.raises(
        DiscoveryError,
        match=r"AWS denied ec2:DescribeInstances in eu-west-1 \(UnauthorizedOperation\).*"
        r"needs ec2:DescribeInstances",
    ):
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


ZAP_WAITING = (
    '{"level":"INFO","ts":"2023-03-01T10:00:00Z","logger":"setupManager","msg":"Preparing existing state disk",'
    '"uuid":"2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"}\r\n'
)


def test_the_console_output_is_read_and_decoded(aws_env, monkeypatch):
    import moto.ec2.responses.general as console

    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import find_disk_uuid

    current_cluster("9f3c1a7e")
    instance = _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)[0]
    monkeypatch.setattr(console, "SAMPLE_CONSOLE_OUTPUT", "[    0.000000] Linux version 6.6\r\n" + ZAP_WAITING)
    text = read_console(instance.boot_log)
    assert find_disk_uuid(text.text)[0] == "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e" and not text.truncated
    assert text.source == f"EC2 console output of {instance.name}"


def test_a_full_console_buffer_is_marked_truncated(aws_env, monkeypatch):
    import moto.ec2.responses.general as console

    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console

    current_cluster("9f3c1a7e")
    instance = _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)[0]
    monkeypatch.setattr(console, "SAMPLE_CONSOLE_OUTPUT", '{"msg":"Failed to rejoin on all endpoints"}\n' * 1600)
    assert read_console(instance.boot_log).truncated


def test_the_console_of_an_unknown_instance_is_named(aws_env):
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import read_console

    with pytest.raises(
        DiscoveryError, match=r"AWS ec2:GetConsoleOutput in eu-west-1 failed \(InvalidInstanceID.NotFound\)"
    ):
        read_console({"source": "aws-console-output", "instance_id": "i-0123456789abcdef0", "region": REGION})


def test_an_instance_without_an_ip_yet_is_listed_without_one():
    raw = {
        "InstanceId": "i-0abc",
        "State": {"Name": "pending"},
        "Placement": {"AvailabilityZone": "eu-west-1a"},
        "Tags": [{"Key": "constellation-role", "Value": "control-plane"}],
    }
    instance = _discovery_aws._instance(raw, REGION)  # pylint: disable=protected-access
    assert instance.private_ip is None and instance.status == "pending" and instance.role == "control-plane"


def test_a_v2_2_to_v2_15_disk_uuid_comes_from_the_clusters_cloudwatch_group(aws_env):
    import boto3

    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._cloud_logging import read_cloud_log
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._disk_uuid import find_disk_uuid

    current_cluster("9f3c1a7e")
    first, second = _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)[:2]
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="constell-9f3c1a7e")
    for instance, disk in (
        (first, "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"),
        (second, "0c6f2a1e-5d1b-4a7e-9c3f-7b2d8e4a1f60"),
    ):
        logs.create_log_stream(logGroupName="constell-9f3c1a7e", logStreamName=instance.name)
        logs.put_log_events(
            logGroupName="constell-9f3c1a7e",
            logStreamName=instance.name,
            logEvents=[
                {"timestamp": int(time.time() * 1000) - 2000, "message": "bootstrapper started running..."},
                {"timestamp": int(time.time() * 1000) - 1000, "message": f"Disk UUID: {disk}"},
            ],
        )

    logged = read_cloud_log(dict(first.boot_log, log_name="constell-9f3c1a7e"))

    assert find_disk_uuid(logged.text)[0] == "2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e"
    assert "started running" not in logged.text
    assert logged.source == f"CloudWatch group constell-9f3c1a7e, stream {first.name}"


def test_a_cluster_without_a_cloudwatch_group_says_which_clis_had_one(aws_env):
    from ansible_collections.confidential.recovery.plugins.module_utils._cloud._cloud_logging import read_cloud_log

    current_cluster("9f3c1a7e")
    instance = _discovery_aws.instances(ec2(), "9f3c1a7e", REGION)[0]
    with pytest.raises(
        DiscoveryError, match="no CloudWatch log group constell-9f3c1a7e .*only clusters of CLI v2.2 to v2.15"
    ):
        read_cloud_log(dict(instance.boot_log, log_name="constell-9f3c1a7e"))
