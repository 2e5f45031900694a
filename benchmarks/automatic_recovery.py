#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Outage to all Ready without a human: the collection's rulebook (confidential.recovery.auto_recover) under
ansible-rulebook watches a lab of ``--nodes`` control-plane nodes and the Contrast Coordinator; each rep breaks every
control-plane node and the Coordinator at once (``conflab automatic-drill``) and nobody touches anything. Prints the
timeline's median (min-max) per step and writes JSON.

  .venv/bin/python benchmarks/automatic_recovery.py [--nodes 5] [--reps 3] [--interval 2] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "system"))

from labdriver import BIN, Lab, ansible_env  # noqa: E402

STEPS = ("event_fired", "playbook_started", "quorum", "all_ready", "run_finished", "break_returned")


def one_rep(lab: Lab, interval: float) -> dict:
    out = lab.directory / "automatic-drill.json"
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [str(BIN / "conflab"), "automatic-drill", "--dir", str(lab.directory), "--interval", str(interval)]
        + ["--output", str(out)],
        capture_output=True,
        text=True,
        env=ansible_env(),
        timeout=600,
        check=False,
    )
    if not out.exists():
        raise SystemExit(f"the automatic drill wrote no timeline (rc {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def summary(runs: list[dict]) -> dict:
    table = {}
    for step in STEPS:
        values = [r[step] for r in runs if isinstance(r.get(step), (int, float))]
        if values:
            table[step] = {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--interval", type=float, default=2.0, help="the event source's interval in seconds")
    parser.add_argument("--ip-prefix", default="127.30.26")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "automatic_recovery.json")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    lab = Lab(HERE / "results" / "labs" / f"automatic-{args.nodes}", args.ip_prefix, args.nodes)
    lab.directory.mkdir(parents=True, exist_ok=True)
    lab.up("--rejoin-interval", "3", "--workers", "1", "--attestation", "qemu-vtpm")
    runs = []
    try:
        for rep in range(args.reps):
            run = one_rep(lab, args.interval)
            runs.append(run)
            print(f"  rep {rep + 1}: {run['outcome']}, all Ready {run['all_ready']} s after the break", flush=True)
    finally:
        lab.down()
    table = summary(runs)
    print(f"\noutage to ... without a human, {args.nodes} control-plane nodes + Coordinator, median of {len(runs)}:")
    for step, row in table.items():
        print(f"  {step:<18} {row['median']:>6.2f} s  ({row['min']:.2f}-{row['max']:.2f})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "automatic_recovery",
                "control_plane_nodes": args.nodes,
                "interval": args.interval,
                "reps": len(runs),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "median": table,
                "outcomes": [r["outcome"] for r in runs],
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {args.output}")
    return 0 if all(r["outcome"] == "recovered" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
