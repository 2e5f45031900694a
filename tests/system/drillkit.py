# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What the drill tests share: running playbooks/drill.yml against a lab and reading its reports."""

from __future__ import annotations

import json

import yaml
from labdriver import REPO

DRILL = REPO / "ansible_collections" / "confidential" / "recovery" / "playbooks" / "drill.yml"


def drill(lab, scenario: str, *extra: str):
    run = lab.run("-e", f"drill_lab_dir={lab.directory}", "-e", f"drill_scenario={scenario}", *extra, playbook=DRILL)
    reports = lab.directory / "drills"
    result = (
        json.loads((reports / "drill-report.json").read_text()) if (reports / "drill-report.json").exists() else None
    )
    return run, result, reports


def stages(result, name):
    return [s for s in result["stages"] if s["stage"] == name]


def cluster_name(lab) -> str:
    return yaml.safe_load((lab.directory / "constellation-state.yaml").read_text())["infrastructure"]["name"]


def resets(lab) -> list[str]:
    log = lab.directory / "cloud-operations.log"
    return [json.loads(line)["instance"] for line in log.read_text().splitlines()] if log.exists() else []
