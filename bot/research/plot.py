"""The walk-forward PNG: the stitched out-of-sample equity (walk-forward choice, shipped
settings, buy-and-hold; log scale) above one heatmap per window of two chosen parameters
(mean train score of the trials in each cell; the window's choice starred), so a lone peak
is told from a plateau."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from bot.research.scores import UNDEFINED

MAX_BINS = 8


def _axis(values: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """The cells along one parameter: each distinct value, or bins when there are many."""
    distinct = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if len(distinct) <= MAX_BINS or not all(isinstance(v, int | float) for v in distinct):
        return distinct, [str(v) for v in distinct]
    edges = np.linspace(float(min(distinct)), float(max(distinct)), MAX_BINS + 1)
    return [tuple(edges[i : i + 2]) for i in range(MAX_BINS)], [
        f"{edges[i]:.3g}" for i in range(MAX_BINS)
    ]


def _cell(value: Any, cells: list[Any]) -> int:
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            lo, hi = cell
            if lo <= value <= hi:
                return i
        elif cell == value:
            return i
    return -1


def _heat(ax: Any, window: dict[str, Any], x: str, y: str) -> None:
    rows = [s for s in window["scores"] if s["score"] is not None and s["score"] > UNDEFINED]
    if not rows:
        ax.set_title(f"window {window['index']}: no scored trial")
        return
    xs, x_labels = _axis([r["params"][x] for r in rows])
    ys, y_labels = _axis([r["params"][y] for r in rows])
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    for r in rows:
        i, j = _cell(r["params"][y], ys), _cell(r["params"][x], xs)
        total[i, j] += r["score"]
        count[i, j] += 1
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    image = ax.imshow(mean, origin="lower", aspect="auto", cmap="viridis")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    best = window["best"]["params"]
    ax.plot(_cell(best[x], xs), _cell(best[y], ys), marker="*", color="red", markersize=14)
    ax.set_xticks(range(len(xs)), x_labels, rotation=45, fontsize=7)
    ax.set_yticks(range(len(ys)), y_labels, fontsize=7)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    ax.set_title(f"train {window['train'][0]} → {window['train'][1]}", fontsize=8)


def write_plot(report: dict[str, Any], path: Path, heatmap: tuple[str, str] | None) -> None:
    windows = report["windows"]
    columns = max(len(windows), 1)
    rows = 2 if heatmap else 1
    fig = plt.figure(figsize=(max(12, 3.2 * columns), 5 * rows))
    grid = fig.add_gridspec(rows, columns)
    top = fig.add_subplot(grid[0, :])
    oos = report["out_of_sample"]
    for key, label, style in (
        ("walk_forward", "walk-forward choice (out of sample)", "-"),
        ("defaults", "shipped settings", "--"),
        ("buy_hold", "buy-and-hold", ":"),
    ):
        curve = oos[key]["curve"]
        days = np.array(curve["times_ms"], dtype="datetime64[ms]")
        figures = oos[key]
        top.plot(
            days,
            curve["equity"],
            style,
            label=f"{label}: {figures['total_return']:+.0%}, max DD {figures['max_drawdown']:.0%}",
        )
    for w in windows[1:]:
        top.axvline(np.datetime64(w["test"][0]), color="grey", lw=0.5)  # type: ignore[arg-type]
    top.set_yscale("log")
    top.set_ylabel("equity (x start)")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(
        f"walk-forward, objective {report['objective']}, {report['sampler']} sampler, "
        f"{report['trials_total']} trials over {len(windows)} windows"
    )
    if heatmap:
        for i, window in enumerate(windows):
            _heat(fig.add_subplot(grid[1, i]), window, *heatmap)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
