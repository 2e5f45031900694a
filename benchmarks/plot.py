# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The benchmark's figure: median time to all-Ready per strategy and cluster size, the bars spanning min to max."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402


def plot_all_ready(cells: list[dict], path: Path) -> Path:
    strategies = list(dict.fromkeys(cell["strategy"] for cell in cells))
    sizes = sorted({cell["control_plane_nodes"] for cell in cells})
    width = 0.8 / len(strategies)
    figure, axes = plt.subplots(figsize=(10, 5))
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
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
