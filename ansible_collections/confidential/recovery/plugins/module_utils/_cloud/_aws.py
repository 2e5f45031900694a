# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster's EC2 instances (Constellation v2.2 and later on AWS), found with boto3.

``DescribeInstances`` filtered by ``tag:constellation-uid`` and the states pending and running, as the node
operator lists them; the role and node group come from the tags the Auto Scaling groups propagate
(``constellation-role``, ``constellation-node-group`` since v2.9). Throttling is retried by botocore's
standard retry mode (exponential backoff with jitter). Credentials come from boto3's usual chain (environment,
profile, instance role) unless the inventory gives them.
"""

from __future__ import annotations

from ._discovery import DiscoveryError, Instance, require_instances, role_from

try:
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = _exc

DENIED = (
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "RequestExpired",
)


def session(access_key=None, secret_key=None, session_token=None, profile=None):
    if not HAS_BOTO3:
        raise DiscoveryError(f"the aws provider needs boto3 (pip install boto3): {BOTO3_IMPORT_ERROR}")
    try:
        if profile:
            return boto3.session.Session(profile_name=profile)
        return boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, aws_session_token=session_token
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise DiscoveryError(f"AWS profile not found: {exc}") from exc


def client(aws_session, service: str, region: str, endpoint_url=None, max_attempts: int = 8, timeout: float = 30):
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
        user_agent_extra="confidential.recovery",
    )
    return aws_session.client(service, region_name=region, endpoint_url=endpoint_url or None, config=config)


def explain(exc, action: str, region: str) -> DiscoveryError:
    if isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return DiscoveryError(
            f"no AWS credentials for {action}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or the inventory's profile or access_key and secret_key"
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in DENIED:
            return DiscoveryError(
                f"AWS denied {action} in {region} ({code}): {message}. The identity needs "
                f"{action} (discovery needs ec2:DescribeInstances, the boot logs ec2:GetConsoleOutput)"
            )
        return DiscoveryError(f"AWS {action} in {region} failed ({code}): {message}")
    return DiscoveryError(f"AWS {action} in {region} failed: {exc}")


def _instance(raw: dict, region: str) -> Instance | None:
    tags = {tag["Key"]: tag["Value"] for tag in raw.get("Tags") or []}
    role = role_from(tags.get("constellation-role"))
    if role is None:
        return None
    instance_id = raw["InstanceId"]
    zone = (raw.get("Placement") or {}).get("AvailabilityZone", "")
    return Instance(
        name=instance_id,
        role=role,
        private_ip=raw.get("PrivateIpAddress"),
        node_group=tags.get("constellation-node-group", ""),
        status=(raw.get("State") or {}).get("Name", ""),
        cloud={
            "provider": "aws",
            "instance_id": instance_id,
            "region": region,
            "availability_zone": zone,
            "auto_scaling_group": tags.get("aws:autoscaling:groupName", ""),
            "name_tag": tags.get("Name", ""),
            "provider_id": f"aws:///{zone}/{instance_id}",
        },
        boot_log={"source": "aws-console-output", "instance_id": instance_id, "region": region},
    )


def instances(ec2, uid: str, region: str) -> list[Instance]:
    """The cluster's pending and running instances that carry a Constellation role."""
    found = []
    try:
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[
                {"Name": "tag:constellation-uid", "Values": [uid]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )
        for page in pages:
            for reservation in page.get("Reservations") or []:
                found.extend(filter(None, (_instance(raw, region) for raw in reservation.get("Instances") or [])))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise explain(exc, "ec2:DescribeInstances", region) from exc
    return require_instances(sorted(found, key=lambda i: (i.role, i.name)), uid, f"AWS region {region}")
