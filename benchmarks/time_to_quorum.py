#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Time to etcd quorum and to a fully Ready control plane, on the same lab, in one run.

Strategies, for 3, 5 and 7 control-plane nodes (every control-plane node rebooted):
  upstream-cli   the upstream `constellation recover` algorithm: a sequential loop through the load
                 balancer, a new connection per attempt, retrying every 5 s (benchmarks/upstream_cli.py)
  ours-quorum    recover.yml, stop_at=quorum: parallel pushes to floor(n/2)+1 nodes, the rest self-heal
  ours-all       recover.yml, stop_at=all: parallel pushes to every waiting node

Quorum is observed the same way for every strategy: /readyz/etcd on the lab's Kubernetes API face.
Prints a table and writes JSON (benchmarks/results/time_to_quorum.json by default).

  .venv/bin/python benchmarks/time_to_quorum.py [--sizes 3 5 7] [--rejoin-interval 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(HERE))

from labdriver import Lab  # noqa: E402
from quorum_watch import QuorumWatch  # noqa: E402
import upstream_cli  # noqa: E402

STRATEGIES = ("upstream-cli", "ours-quorum", "ours-all")


def run_ours(lab: Lab, stop_at: str) -> dict:
    watch = QuorumWatch(lab.directory)
    watch.start()
    started = time.monotonic()
    run = lab.run("-e", f"constellation_recover_stop_at={stop_at}", "-e", "recover_contrast=false", "-e", "contrast_recover_coordinator=")
    finished = time.monotonic()
    watch.stop()
    if run.rc != 0:
        raise RuntimeError(f"recover.yml failed for stop_at={stop_at}:\n{run.output[-3000:]}")
    summary = run.report["constellation"]
    return {
        "seconds_to_quorum": watch.seconds_to_quorum(started),
        "seconds_to_all_ready": round(finished - started, 2),
        "keys_pushed": summary["keys_pushed"],
    }


def run_upstream(lab: Lab, interval: float) -> dict:
    watch = QuorumWatch(lab.directory)
    watch.start()
    started = time.monotonic()
    result = upstream_cli.recover(lab.directory, interval=interval)
    ready_at = watch.wait_all_ready(timeout=900)
    watch.stop()
    return {
        "seconds_to_quorum": watch.seconds_to_quorum(started),
        "seconds_to_all_ready": round(ready_at - started, 2) if ready_at else None,
        "keys_pushed": result["pushed"],
        "cli_seconds": round(result["seconds"], 2),
    }


def measure(size: int, rejoin_interval: float, interval: float, prefix: str, workdir: Path) -> list[dict]:
    lab = Lab(workdir / f"lab-{size}", prefix, size)
    lab.directory.mkdir(parents=True, exist_ok=True)
    lab.up("--rejoin-interval", str(rejoin_interval), "--workers", "0", "--no-contrast")
    rows = []
    try:
        for strategy in STRATEGIES:
            lab.break_control_plane()
            if strategy == "upstream-cli":
                figures = run_upstream(lab, interval)
            else:
                figures = run_ours(lab, strategy.split("-", 1)[1])
            row = {"control_plane_nodes": size, "strategy": strategy, **figures}
            print(f"  {size} nodes  {strategy:<13} quorum {row['seconds_to_quorum']} s, all Ready {row['seconds_to_all_ready']} s, keys {row['keys_pushed']}", flush=True)
            rows.append(row)
    finally:
        lab.down()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--rejoin-interval", type=float, default=30.0, help="node rejoin interval (upstream: 30 s)")
    parser.add_argument("--cli-interval", type=float, default=5.0, help="upstream CLI retry interval (5 s; 20 s on Azure)")
    parser.add_argument("--ip-prefix", default="127.30.0")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "time_to_quorum.json")
    args = parser.parse_args()

    workdir = HERE / "results" / "labs"
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for size in args.sizes:
        rows += measure(size, args.rejoin_interval, args.cli_interval, args.ip_prefix, workdir)

    print()
    print(f"{'nodes':>5}  {'strategy':<13} {'to quorum (s)':>14} {'to all Ready (s)':>17} {'keys':>5}")
    for row in rows:
        print(f"{row['control_plane_nodes']:>5}  {row['strategy']:<13} {str(row['seconds_to_quorum']):>14} {str(row['seconds_to_all_ready']):>17} {row['keys_pushed']:>5}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "time_to_quorum",
        "rejoin_interval_s": args.rejoin_interval,
        "cli_interval_s": args.cli_interval,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "results": rows,
    }, indent=2) + "\n")
    print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
