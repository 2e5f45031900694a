# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Reading a run's report, and checking that no key material reached the output or the report."""

from __future__ import annotations

import json

from leakcheck import constellation_secret_forms, leaked


def disk_uuids(lab) -> list[str]:
    config = json.loads((lab.directory / "lab.json").read_text())
    return [n["disk_uuid"] for n in config["nodes"] if n.get("disk_uuid")]


def outcomes(run) -> dict[str, str]:
    return {n["node"]: n["outcome"] for n in run.report["constellation"]["nodes"]}


def node(run, name: str) -> dict:
    return next(n for n in run.report["constellation"]["nodes"] if n["node"] == name)


def assert_every_control_plane_node_recovered(summary: dict) -> list[dict]:
    """The outcome of stop_at=all after the whole control plane rebooted, independent of timing: every waiting node is
    pushed in the first round, in parallel, but a node whose push fails while quorum forms may heal from its peers
    before the next round reaches it. Both are recovered. Returns the pushed nodes."""
    control_plane = [n for n in summary["nodes"] if n["role"] == "control-plane"]
    assert {n["outcome"] for n in control_plane} <= {"pushed", "self_healed"}, control_plane
    pushed = [n for n in control_plane if n["outcome"] == "pushed"]
    assert summary["keys_pushed"] >= summary["keys_needed"] and len(pushed) >= summary["keys_needed"], summary
    return pushed


def assert_no_constellation_leak(lab, run) -> None:
    forms = constellation_secret_forms(lab.directory / "constellation-mastersecret.json", disk_uuids(lab))
    report_text = json.dumps(run.report) if run.report else ""
    assert leaked(forms, run.output, report_text) == []
