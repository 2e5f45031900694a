# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation clusters on moto's EC2 and Auto Scaling, built the way the CLI's Terraform builds them: one Auto
Scaling group per node group, its tags propagated to the instances it launches."""

from __future__ import annotations

import boto3

REGION = "eu-west-1"
IMAGE = "ami-12c6146b"  # an image moto knows
ENDPOINT = {"url": None}  # a moto server's address when the cluster is built there instead of in-process


def _client(service: str):
    return boto3.client(service, region_name=REGION, endpoint_url=ENDPOINT["url"])


def _vpc(ec2) -> str:
    vpc = ec2.create_vpc(CidrBlock="192.168.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="192.168.176.0/20", AvailabilityZone=f"{REGION}a")["Subnet"][
        "SubnetId"
    ]


def node_group(subnet: str, group_name: str, tags: dict[str, str], count: int) -> None:
    autoscaling = _client("autoscaling")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=f"{group_name}-lc", ImageId=IMAGE, InstanceType="t3.medium"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=group_name,
        LaunchConfigurationName=f"{group_name}-lc",
        MinSize=count,
        MaxSize=count,
        DesiredCapacity=count,
        VPCZoneIdentifier=subnet,
        Tags=[{"Key": key, "Value": value, "PropagateAtLaunch": True} for key, value in tags.items()],
    )


def current_cluster(uid: str = "9f3c1a7e", control_planes: int = 3, workers: int = 2) -> str:
    """A v2.9+ cluster: group names <name>-<uid>-<role>-<8hex>, the node-group tag set."""
    subnet = _vpc(_client("ec2"))
    for role, group, count in (
        ("control-plane", "control_plane_default", control_planes),
        ("worker", "worker_default", workers),
    ):
        node_group(
            subnet,
            f"constell-{uid}-{role}-5e6f7a8b",
            {
                "constellation-uid": uid,
                "constellation-role": role,
                "constellation-node-group": group,
                "Name": f"constell-{uid}-{role}",
                f"kubernetes.io/cluster/constell-{uid}": "owned",
            },
            count,
        )
    return subnet


def upgraded_cluster(uid: str = "0c1d2e3f") -> str:
    """A cluster created by CLI v2.5 and upgraded since: old group names, no node-group tag, the old cluster tag."""
    subnet = _vpc(_client("ec2"))
    for role, count in (("control-plane", 3), ("worker", 1)):
        node_group(
            subnet,
            f"constell-{uid}-{role}",
            {
                "constellation-uid": uid,
                "constellation-role": role,
                "Name": f"constell-{uid}-{role}",
                "KubernetesCluster": f"Constellation-{uid}",
            },
            count,
        )
    return subnet


def stray_instance(subnet: str, uid: str) -> None:
    """An instance of the cluster's uid without a Constellation role (a jump host someone tagged)."""
    _client("ec2").run_instances(
        ImageId=IMAGE,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "constellation-uid", "Value": uid}]}],
    )
