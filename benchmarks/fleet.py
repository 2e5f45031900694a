# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Rows beyond one cluster: a fleet recovered by one recover.yml run, and an inventory with many workers.

- fleet: 4 lab clusters of 3 control-plane nodes, every control plane rebooted, one ``recover.yml`` run over the four
  inventories; the time until all four clusters are Ready, against the same run over one of them. The limit
  strategy (no Ansible) on the same one and four clusters gives the lab's own ratio: twelve nodes healing on the
  machine's CPUs take longer than three, whatever pushed their keys.
- inventory scale: the tool time (ansible-playbook's wall time) of ``recover.yml`` on 7 control-plane nodes, with 0 and
  with 20 workers (workers get no key and no task).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from labdriver import BIN, Lab, ansible_env  # noqa: E402
from quorum_watch import QuorumWatch  # noqa: E402
from strategies import READY_TIMEOUT, REPO, run_limit_on  # first: it puts the lab driver on the path

RECOVER = REPO / "ansible_collections" / "confidential" / "recovery" / "playbooks" / "recover.yml"
FLEET_PREFIXES = ("127.30.11", "127.30.12", "127.30.13", "127.30.14")


def _start(lab: Lab, *extra: str) -> Lab:
    lab.directory.mkdir(parents=True, exist_ok=True)
    lab.up("--rejoin-interval", "30", "--no-contrast", *extra)
    return lab


def _recover(labs: list[Lab], stop_at: str, collections: Path | None = None) -> tuple[float, list[dict]]:
    """One recover.yml run over the labs' inventories; per lab the watch's figures from the run's start."""
    command = [
        str(BIN / "ansible-playbook"),
        str(RECOVER),
        "-e",
        f"@{labs[0].directory / 'recover-vars.yml'}",
        "-e",
        f"constellation_recover_stop_at={stop_at}",
        "-e",
        "recover_contrast=false",
        "-e",
        "contrast_recover_coordinator=",
        "-e",
        f"recovery_report_file={labs[0].directory / 'fleet-report.json'}",
    ]
    for lab in labs:
        command[1:1] = ["-i", str(lab.directory / "inventory.constellation.yml")]
    watches = [QuorumWatch(lab.directory).start() for lab in labs]
    started = time.monotonic()
    env = ansible_env()
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, check=False)
    tool_seconds = round(time.monotonic() - started, 2)
    for watch in watches:
        watch.wait_all_ready(READY_TIMEOUT)
        watch.stop()
    if run.returncode != 0:
        raise RuntimeError(f"recover.yml over {len(labs)} cluster(s) failed:\n{(run.stdout + run.stderr)[-3000:]}")
    return tool_seconds, [watch.figures() for watch in watches]


def _break(labs: list[Lab]) -> None:
    with ThreadPoolExecutor(max_workers=len(labs)) as pool:
        list(pool.map(lambda lab: lab.break_control_plane(), labs))


def fleet(workdir: Path, reps: int, stop_at: str, collections: Path | None = None) -> dict:
    labs = [Lab(workdir / f"fleet-{letter}", prefix, 3) for letter, prefix in zip("abcd", FLEET_PREFIXES, strict=False)]
    single, together, limit_single, limit_together = [], [], [], []
    try:
        for letter, lab in zip("abcd", labs, strict=False):
            _start(lab, "--workers", "0", "--name", f"fleet-{letter}")
        for rep in range(reps):
            _break(labs[:1])
            _tool, figures = _recover(labs[:1], stop_at, collections)
            single.append(figures[0]["seconds_to_all_ready"])
            _break(labs)
            _tool, figures = _recover(labs, stop_at, collections)
            together.append(_slowest(figures))
            _break(labs[:1])
            limit_single.append(_slowest(run_limit_on(labs[:1])))
            _break(labs)
            limit_together.append(_slowest(run_limit_on(labs)))
            print(
                f"  fleet rep {rep + 1}: one cluster all Ready {single[-1]} s, 4 clusters all Ready {together[-1]} s; "
                f"limit: one cluster {limit_single[-1]} s, 4 clusters {limit_together[-1]} s",
                flush=True,
            )
    finally:
        for lab in labs:
            lab.down()
    return {
        "clusters": 4,
        "control_plane_nodes": 3,
        "stop_at": stop_at,
        "single_all_ready": single,
        "fleet_all_ready": together,
        "single_median": statistics.median(single),
        "fleet_median": statistics.median(together),
        "ratio": round(statistics.median(together) / statistics.median(single), 2),
        "limit_single_all_ready": limit_single,
        "limit_fleet_all_ready": limit_together,
        "limit_ratio": round(statistics.median(limit_together) / statistics.median(limit_single), 2),
    }


def _slowest(figures: list[dict]) -> float:
    return max(f["seconds_to_all_ready"] or float("inf") for f in figures)


def inventory_scale(workdir: Path, reps: int, stop_at: str) -> dict:
    rows = {}
    for workers, prefix in ((0, "127.30.21"), (20, "127.30.20")):
        lab = _start(Lab(workdir / f"scale-{workers}", prefix, 7), "--workers", str(workers))
        try:
            tool = []
            for _rep in range(reps):
                lab.break_control_plane()
                seconds, _figures = _recover([lab], stop_at)
                tool.append(seconds)
            rows[workers] = tool
            print(f"  7 control-plane nodes + {workers} workers: tool time {tool} s", flush=True)
        finally:
            lab.down()
    return {
        "control_plane_nodes": 7,
        "stop_at": stop_at,
        "tool_seconds": {str(k): v for k, v in rows.items()},
        "median_without_workers": statistics.median(rows[0]),
        "median_with_20_workers": statistics.median(rows[20]),
    }
