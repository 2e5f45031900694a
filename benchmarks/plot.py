# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The benchmark's figure: on the left, median time to all-Ready per strategy and cluster size, the bars spanning min
to max; on the right, the phases of the controller's time before its first key, stacked per size, next to the limit."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402


def plot_all_ready(cells: list[dict], path: Path, overhead: list[dict] | None = None) -> Path:
    with_phases = [row for row in overhead or [] if row["before_first_key"]]
    figure, panels = plt.subplots(1, 2 if with_phases else 1, figsize=(17 if with_phases else 10, 5), squeeze=False)
    _all_ready(panels[0][0], cells)
    if with_phases:
        _phases(panels[0][1], cells, with_phases)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def _phases(axes, cells: list[dict], rows: list[dict]) -> None:
    limit = {c["control_plane_nodes"]: c["seconds_to_all_ready"]["median"] for c in cells if c["strategy"] == "limit"}
    names = list(rows[0]["before_first_key"]["phases"])
    positions = range(len(rows))
    bottoms = [0.0] * len(rows)
    colours = plt.get_cmap("tab20").colors
    for index, name in enumerate(names):
        heights = [row["before_first_key"]["phases"][name] for row in rows]
        axes.bar(positions, heights, 0.5, bottom=bottoms, label=name, color=colours[index % len(colours)])
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.scatter(
        positions, [limit.get(row["control_plane_nodes"]) or 0 for row in rows], marker="_", s=900, color="black",
        label="limit: all Ready with no controller",
    )  # fmt: skip
    axes.set_xticks(list(positions), [f"{row['control_plane_nodes']} nodes" for row in rows])
    axes.set_ylabel("seconds from ansible-playbook's start (median per phase)")
    axes.set_title("Before the first key: where the controller's time goes")
    axes.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.grid(axis="y", alpha=0.3)


def _all_ready(axes, cells: list[dict]) -> None:
    strategies = list(dict.fromkeys(cell["strategy"] for cell in cells))
    sizes = sorted({cell["control_plane_nodes"] for cell in cells})
    width = 0.8 / len(strategies)
    for index, strategy in enumerate(strategies):
        row = {
            cell["control_plane_nodes"]: cell["seconds_to_all_ready"] for cell in cells if cell["strategy"] == strategy
        }
        medians = [row[size]["median"] if size in row and row[size]["median"] is not None else 0 for size in sizes]
        low = [m - (row[size]["min"] or m) if size in row else 0 for m, size in zip(medians, sizes, strict=False)]
        high = [(row[size]["max"] or m) - m if size in row else 0 for m, size in zip(medians, sizes, strict=False)]
        positions = [i + (index - (len(strategies) - 1) / 2) * width for i in range(len(sizes))]
        axes.bar(positions, medians, width, yerr=[low, high], capsize=3, label=strategy)
    axes.set_xticks(range(len(sizes)), [f"{size} control-plane nodes" for size in sizes])
    axes.set_ylabel("seconds to every node Ready (median, min-max)")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.set_title("Time to a fully Ready control plane after every control-plane node rebooted")
    axes.legend(fontsize="small")
    axes.grid(axis="y", which="both", alpha=0.3)
