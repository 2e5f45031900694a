#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Where the controller's time goes before the first recovery key: ``recover.yml`` against a lab whose control-plane
nodes all wait, split into phases from the process's spawn to the first key accepted (phases.py says what each
phase holds). Each rep reboots the control plane first. Prints a table (median, min-max) and writes JSON.

  .venv/bin/python benchmarks/overhead.py [--nodes 5] [--reps 3] [--collections DIR] [--output FILE]
      [--playbook-arg=-e --playbook-arg=name=value ...]

``--collections`` runs another checkout's installed collection (its ``collections`` directory, after ``make
collection`` there) with this harness, so two versions are measured the same way on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "system"))

import phases  # noqa: E402
from labdriver import Lab  # noqa: E402
from quorum_watch import QuorumWatch  # noqa: E402
from strategies import READY_TIMEOUT  # noqa: E402


def one_run(lab: Lab, collections: Path, extra: list[str]) -> dict:
    watch = QuorumWatch(lab.directory).start()
    run = phases.timed_run(
        lab, "-e", "recover_contrast=false", "-e", "contrast_recover_coordinator=", *extra, collections=collections
    )
    watch.wait_all_ready(READY_TIMEOUT)
    watch.stop()
    if run.rc != 0 or run.split is None:
        raise RuntimeError(f"recover.yml failed or left no marks ({run.missing}):\n{run.output[-3000:]}")
    return dict(run.split, **watch.figures())


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f}  ({min(values):.2f}-{max(values):.2f})"


def print_table(runs: list[dict], import_seconds: float) -> None:
    print(f"\n{'phase':<24} {'median (min-max) s':>22}")
    for name in phases.ORDER:
        print(f"{name:<24} {_spread([r['phases'][name] for r in runs]):>22}")
    print(f"{'to the first key':<24} {_spread([r['to_first_key'] for r in runs]):>22}")
    print(f"{'to all Ready (watch)':<24} {_spread([r['seconds_to_all_ready'] for r in runs]):>22}")
    print(f"\nof the module start, importing quorum_recover alone takes {import_seconds:.2f} s (median of 5)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--ip-prefix", default="127.30.22")
    parser.add_argument("--collections", type=Path, default=REPO / "collections")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "overhead.json")
    parser.add_argument(
        "--playbook-arg", action="append", default=[], help="one more ansible-playbook argument (repeat for more)"
    )
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    collections = args.collections.resolve()
    if not (collections / "ansible_collections" / "confidential" / "recovery").is_dir():
        parser.error(f"{collections} holds no installed confidential.recovery (run make collection there)")

    lab = Lab(HERE / "results" / "labs" / f"overhead-{args.nodes}", args.ip_prefix, args.nodes)
    lab.directory.mkdir(parents=True, exist_ok=True)
    lab.up("--rejoin-interval", "30", "--workers", "0", "--no-contrast")
    runs = []
    try:
        for rep in range(args.reps):
            lab.break_control_plane()
            run = one_run(lab, collections, args.playbook_arg)
            runs.append(run)
            print(
                f"  rep {rep + 1}: first key after {run['to_first_key']:.2f} s, "
                f"all Ready after {run['seconds_to_all_ready']} s",
                flush=True,
            )
    finally:
        lab.down()
    import_seconds = phases.module_import_seconds(collections)
    print_table(runs, import_seconds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "overhead",
                "collections": str(collections),
                "control_plane_nodes": args.nodes,
                "reps": args.reps,
                "playbook_args": args.playbook_arg,
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "median": phases.medians([{k: r[k] for k in ("phases", "to_first_key")} for r in runs]),
                "module_import_seconds": import_seconds,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
