#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Time to etcd quorum and to a fully Ready control plane, per strategy and cluster size, on the same labs, in one run.

Every control-plane node is rebooted before each run of a strategy (strategies.py lists them). Each cell is the
median of ``--reps`` runs, with the min and max. Then the fleet row (4 clusters x 3 nodes in one recover.yml run)
and the inventory-scale row (7 control-plane nodes with 0 and with 20 workers), unless left out.
Prints a table, writes JSON and a plot (benchmarks/results/ by default).

  .venv/bin/python benchmarks/time_to_quorum.py [--sizes 3 5 7] [--reps 3] [--strategies ...] [--no-fleet] [--no-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "system"))  # the lab driver, before any benchmark module needs it

import fleet  # noqa: E402
import phases  # noqa: E402
from strategies import PROFILES, REPO, STRATEGIES, Lab, run_strategy  # noqa: E402

DEFAULT_STRATEGY = "ours-all"  # recover.yml's default constellation_recover_stop_at


def spread(values: list) -> dict:
    known = [v for v in values if v is not None]
    if not known:
        return {"median": None, "min": None, "max": None, "runs": values}
    return {"median": round(statistics.median(known), 2), "min": min(known), "max": max(known), "runs": values}


def measure(
    size: int,
    reps: int,
    strategies: list[str],
    rejoin_interval: float,
    prefix: str,
    workdir: Path,
    collections: Path | None = None,
) -> list[dict]:
    lab = Lab(workdir / f"lab-{size}", prefix, size)
    lab.directory.mkdir(parents=True, exist_ok=True)
    lab.up("--rejoin-interval", str(rejoin_interval), "--workers", "0", "--no-contrast")
    runs: dict[str, list[dict]] = {strategy: [] for strategy in strategies}
    try:
        for rep in range(reps):
            for strategy in strategies:
                lab.break_control_plane()
                figures = run_strategy(lab, strategy, collections)
                runs[strategy].append(figures)
                print(
                    f"  {size} nodes  rep {rep + 1}  {strategy:<22} quorum {figures['seconds_to_quorum']} s, "
                    f"all Ready {figures['seconds_to_all_ready']} s, keys {figures['keys_pushed']}",
                    flush=True,
                )
    finally:
        lab.down()
    return [
        {
            "control_plane_nodes": size,
            "strategy": strategy,
            "seconds_to_quorum": spread([r["seconds_to_quorum"] for r in results]),
            "seconds_to_all_ready": spread([r["seconds_to_all_ready"] for r in results]),
            "keys_pushed": spread([r["keys_pushed"] for r in results]),
            "tool_seconds": spread([r.get("tool_seconds") for r in results]),
            "before_first_key": phases.medians([r.get("split") for r in results]),
        }
        for strategy, results in runs.items()
    ]


def _cell(value: dict) -> str:
    if value["median"] is None:
        return "-"
    return f"{value['median']:.2f} ({value['min']:.2f}-{value['max']:.2f})"


def print_table(cells: list[dict]) -> None:
    print()
    print(
        f"{'nodes':>5}  {'strategy':<22} {'to quorum, median (min-max) s':>30} {'to all Ready, median (min-max) s':>33} {'keys':>5}"
    )
    for cell in cells:
        print(
            f"{cell['control_plane_nodes']:>5}  {cell['strategy']:<22} {_cell(cell['seconds_to_quorum']):>30} "
            f"{_cell(cell['seconds_to_all_ready']):>33} {cell['keys_pushed']['median']:>5}"
        )


def overhead_rows(cells: list[dict]) -> list[dict]:
    """Per size, the controller's overhead: ours (the default strategy) minus the limit, to all Ready, with the
    phases before ours sent its first key."""
    by = {(c["control_plane_nodes"], c["strategy"]): c for c in cells}
    rows = []
    for size in sorted({c["control_plane_nodes"] for c in cells}):
        limit, ours = by.get((size, "limit")), by.get((size, DEFAULT_STRATEGY))
        if not (limit and ours) or None in (
            limit["seconds_to_all_ready"]["median"],
            ours["seconds_to_all_ready"]["median"],
        ):
            continue
        rows.append(
            {
                "control_plane_nodes": size,
                "overhead_to_all_ready": round(
                    ours["seconds_to_all_ready"]["median"] - limit["seconds_to_all_ready"]["median"], 2
                ),
                "before_first_key": ours["before_first_key"],
            }
        )
    return rows


def print_overhead(rows: list[dict]) -> None:
    for row in rows:
        print(f"\n{row['control_plane_nodes']} nodes: controller overhead ({DEFAULT_STRATEGY} minus limit, to all Ready) "
              f"{row['overhead_to_all_ready']:.2f} s")  # fmt: skip
        split = row["before_first_key"]
        if split:
            print(
                "  before the first key: " + ", ".join(f"{name} {split['phases'][name]:.2f}" for name in phases.ORDER)
            )


def targets(cells: list[dict], fleet_row: dict | None) -> list[dict]:
    """The issue's targets, each with the figures it was judged on."""
    verdicts = []
    by = {(c["control_plane_nodes"], c["strategy"]): c for c in cells}
    for size in sorted({c["control_plane_nodes"] for c in cells}):
        limit, ours = by.get((size, "limit")), by.get((size, DEFAULT_STRATEGY))
        if not (limit and ours):
            continue
        for measure_name in ("seconds_to_quorum", "seconds_to_all_ready"):
            floor, got = limit[measure_name]["median"], ours[measure_name]["median"]
            verdicts.append(
                {
                    "target": f"{size} nodes: ours {measure_name} <= limit + 1.5 s",
                    "ours": got,
                    "limit": floor,
                    "met": None if None in (floor, got) else got <= floor + 1.5,
                }
            )
            for profile in PROFILES:
                peer = by.get((size, f"upstream-{profile}"))
                if peer and peer[measure_name]["median"] is not None and got is not None:
                    verdicts.append(
                        {
                            "target": f"{size} nodes: ours ahead of upstream-{profile} on {measure_name}",
                            "ours": got,
                            "upstream": peer[measure_name]["median"],
                            "met": got < peer[measure_name]["median"],
                        }
                    )
        azure = by.get((size, "upstream-azure"))
        if azure and azure["seconds_to_all_ready"]["median"] and ours["seconds_to_all_ready"]["median"]:
            ratio = azure["seconds_to_all_ready"]["median"] / ours["seconds_to_all_ready"]["median"]
            verdicts.append(
                {
                    "target": f"{size} nodes: at least 3x faster to all Ready than upstream-azure",
                    "ratio": round(ratio, 2),
                    "met": ratio >= 3,
                }
            )
    if fleet_row:
        verdicts.append(
            {
                "target": "fleet 4 x 3: all Ready within 1.5x one cluster",
                "ratio": fleet_row["ratio"],
                "limit_ratio": fleet_row["limit_ratio"],
                "met": fleet_row["ratio"] <= 1.5,
            }
        )
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--rejoin-interval", type=float, default=30.0, help="node rejoin interval (upstream: 30 s)")
    parser.add_argument("--ip-prefix", default="127.30.0")
    parser.add_argument("--no-fleet", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument(
        "--collections",
        type=Path,
        help="run ours from another checkout's installed collection (its collections directory after make collection)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "time_to_quorum.json")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    workdir = HERE / "results" / "labs"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cells: list[dict] = []
    for size in args.sizes:
        cells += measure(
            size, args.reps, args.strategies, args.rejoin_interval, args.ip_prefix, workdir, args.collections
        )
    fleet_row = (
        None if args.no_fleet else fleet.fleet(workdir, args.reps, DEFAULT_STRATEGY.split("-", 1)[1], args.collections)
    )
    scale_row = None if args.no_scale else fleet.inventory_scale(workdir, args.reps, DEFAULT_STRATEGY.split("-", 1)[1])

    print_table(cells)
    if fleet_row:
        print(
            f"\nfleet 4 x 3 ({fleet_row['stop_at']}): all four Ready after {fleet_row['fleet_median']} s (median), "
            f"one cluster alone {fleet_row['single_median']} s: {fleet_row['ratio']}x; the lab's own ratio (limit, "
            f"no Ansible): {statistics.median(fleet_row['limit_fleet_all_ready'])} s against "
            f"{statistics.median(fleet_row['limit_single_all_ready'])} s, {fleet_row['limit_ratio']}x"
        )
    if scale_row:
        print(
            f"inventory scale: recover.yml tool time on 7 control-plane nodes {scale_row['median_without_workers']} s, "
            f"with 20 workers {scale_row['median_with_20_workers']} s (medians)"
        )
    overhead = overhead_rows(cells)
    print_overhead(overhead)
    verdicts = targets(cells, fleet_row)
    print()
    for verdict in verdicts:
        print(
            f"{'MET ' if verdict['met'] else 'MISS' if verdict['met'] is False else '?   '} {verdict['target']}: "
            + ", ".join(f"{k} {v}" for k, v in verdict.items() if k not in ("target", "met"))
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "time_to_quorum",
                "reps": args.reps,
                "rejoin_interval_s": args.rejoin_interval,
                "load_balancer_profiles": {name: vars(profile) for name, profile in PROFILES.items()},
                "default_strategy": DEFAULT_STRATEGY,
                "collections": str(args.collections or REPO / "collections"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "seconds": round(time.monotonic() - started, 1),
                "results": cells,
                "controller_overhead": overhead,
                "fleet": fleet_row,
                "inventory_scale": scale_row,
                "targets": verdicts,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten: {args.output}")
    try:
        from plot import plot_all_ready  # matplotlib: only for the figure, so that --help needs none
    except ImportError as exc:  # the figures are written: a missing plotting library must not lose them
        print(f"no plot ({exc}): make benchmark installs benchmarks/requirements.txt")
        return 0
    print(f"written: {plot_all_ready(cells, args.output.with_name('time_to_all_ready.png'), overhead)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
