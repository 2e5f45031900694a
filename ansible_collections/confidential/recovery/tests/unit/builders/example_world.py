# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The world the documentation's examples live in: the variables their Jinja names, and the files those name.

A Constellation workspace (constellation-conf.yaml for the example's variant, the master secret, the admin
kubeconfig, GCE's saved instance key), the seed-share owner's Contrast workspace with a manifest that has SNP
reference values, and saved evidence (a real SEV-SNP report with its VCEK, a real TDX quote with Intel's collateral).
A variable an example uses and the world does not define fails the example (StrictUndefined)."""

from __future__ import annotations

import datetime
import functools
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from contrast_documents import POLICY_HASH, reference_entry
from contrast_workspace import write_workspace
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fixture_files import FIXTURES
from jinja2 import Environment, StrictUndefined
from module_arguments import KUBECONFIG, MASTER_KEY, MASTER_SECRET
from snp_documents import SoftwareSnp, aws_config, azure_config, gcp_config, save_gce_key
from vtpm_documents import AK

__all__ = ["example_world"]


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


MEASUREMENT_SALT = bytes.fromhex("5a" * 32)
# clusterValues of constellation-state.yaml for the master secret of module_arguments (key 00..1f, salt 20..3f)
CLUSTER = {
    "clusterID": _hkdf(_hkdf(MASTER_KEY, bytes(range(32, 64)), b"key-measurementSecret"), MEASUREMENT_SALT,
                       b"key-clusterID").hex(),
    "measurementSalt": MEASUREMENT_SALT.hex(),
}  # fmt: skip
DISK_UUID = "d2d5d0a8-0e5c-4c4a-9d53-5c1c1f6ad0a1"
SNP_REPORT = FIXTURES / "snp" / "milan-report.bin"
WHOLE_EXPRESSION = re.compile(r"\{\{((?:(?!\{\{|\}\}).)*)\}\}", re.S)


@functools.cache
def _platform() -> SoftwareSnp:
    return SoftwareSnp()


def _constellation_config(attestation: str | None) -> dict:
    if attestation == "aws-sev-snp":
        return aws_config(_platform())
    if attestation == "gcp-sev-snp":
        return gcp_config()
    return azure_config(_platform())


def _drill_result() -> dict:
    return {
        "scenario": {"name": "full-outage", "parameters": {}},
        "target": "lab",
        "started_at": "2026-12-01T03:00:00Z",
        "stages": [
            {"stage": "detection", "node": None, "start": 0.0, "end": 1.0, "status": "ok", "detail": "all nodes wait"},
            {"stage": "all_ready", "node": None, "start": 1.0, "end": 9.5, "status": "ok", "detail": ""},
        ],
        "attestation": [],
    }


def _boot_log(instance: str) -> dict:
    return {
        "source": "aws-console-output",
        "instance_id": f"i-0{abs(hash(instance)) % 10**16:016d}",
        "region": "eu-west-1",
    }


@dataclass
class ExampleWorld:
    directory: Path
    variables: dict

    def render(self, value):
        """``value`` with every string's Jinja rendered, to native types as Ansible would."""
        if isinstance(value, dict):
            return {key: self.render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item) for item in value]
        if not (isinstance(value, str) and "{{" in value):
            return value
        environment = Environment(undefined=StrictUndefined)
        environment.globals["now"] = lambda utc=False: datetime.datetime.now(datetime.UTC if utc else None)
        whole = WHOLE_EXPRESSION.fullmatch(value)
        if whole:  # "{{ x }}" alone is x's own value, of its own type, as in Ansible
            return environment.compile_expression(whole.group(1), undefined_to_none=False)(**self.variables)
        return environment.from_string(value).render(self.variables)


def example_world(directory: Path, attestation: str | None) -> ExampleWorld:
    workspace = directory / "workspace"
    workspace.mkdir(exist_ok=True)
    (workspace / "constellation-conf.yaml").write_text(yaml.safe_dump(_constellation_config(attestation)))
    (workspace / "constellation-mastersecret.json").write_text(MASTER_SECRET)
    (workspace / "constellation-mastersecret.json").chmod(0o600)
    (workspace / "constellation-admin.conf").write_text(KUBECONFIG)
    collateral = workspace / "collateral"
    if not collateral.exists():
        save_gce_key(collateral, AK.public_key())

    contrast = workspace / "contrast"
    contrast.mkdir(exist_ok=True)
    owner = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_workspace(contrast, owner, seed=bytes(range(32)), salt=bytes(range(32, 64)))
    manifest = {
        "Policies": {POLICY_HASH: {"SANs": ["coordinator"], "Role": "coordinator"}},
        "ReferenceValues": {"snp": [reference_entry()]},
    }
    (contrast / "manifest.json").write_text(json.dumps(manifest))

    evidence = workspace / "evidence"
    evidence.mkdir(exist_ok=True)
    shutil.copy(SNP_REPORT, evidence / "report.bin")
    shutil.copy(FIXTURES / "snp" / "milan-vcek.der", evidence / "vcek.der")
    shutil.copy(FIXTURES / "tdx" / "tdx-quote.bin", evidence / "quote.bin")
    shutil.copy(FIXTURES / "tdx" / "tdx-quote-collateral.json", evidence / "collateral.json")

    control_plane = [f"prod-eu-control-plane-{i}" for i in range(3)]
    variables = {
        "constellation_workspace": str(workspace),
        "workspace": str(workspace),
        "contrast_workspace": str(contrast),
        "state": {"clusterValues": CLUSTER, "infrastructure": {"clusterEndpoint": "192.0.2.10"}},
        "vaulted_master_secret": MASTER_SECRET,
        "coordinator_ip": "192.0.2.20",
        "expected_report_data": SNP_REPORT.read_bytes()[0x50:0x90].hex(),
        "expected_mr_td": "00" * 48,
        "ansible_host": "10.9.0.6",
        "disk": {"disk_uuid": DISK_UUID},
        "lookup_result": {"disk_uuid": DISK_UUID},
        "constellation_boot_log": _boot_log("prod-eu-control-plane-0"),
        "constellation_cloud_log": str(workspace / "cloud-log.txt"),
        "coordinator": {"mesh_ca_changed": True},
        "drill_result": _drill_result(),
        "drill_confirm": "prod-eu",
        "lock": {"run_id": "20261201T030000Z-4242"},
        "hostvars": {
            name: {"constellation_role": "control-plane", "constellation_boot_log": _boot_log(name)}
            for name in control_plane
        },
    }
    (workspace / "cloud-log.txt").write_text(f"Disk UUID: {DISK_UUID}\n")
    return ExampleWorld(workspace, variables)
