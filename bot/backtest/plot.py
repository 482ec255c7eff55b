"""`--plot PATH.png`: price with entries, exits and tier marks; equity vs buy-and-hold on a log
scale with the key figures; drawdown; returns by month.

The Fed regime the strategy saw (point in time) shades every panel. matplotlib's Agg backend:
no display needed. Long intraday runs are drawn from daily points (a PNG has no room for a
million bars).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.backtest.candles import DAY_MS, FloatArray, IntArray
from bot.backtest.metrics import daily_points, drawdown
from bot.backtest.report_tables import MONTHS, factor, monthly_grid, pct
from bot.backtest.runner import BacktestResult
from bot.backtest.trader_report import TraderReport, trader_report
from bot.strategy.inputs import RegimeView
from exchanges.base import Side

REGIME_COLORS = {"tightening": "#d62728", "neutral": "#9e9e9e", "easing": "#2ca02c"}
_MAX_POINTS = 4000
_MARKERS = {
    "tranche": ("^", "#2ca02c", "entry"),
    "take_profit": ("v", "#1f77b4", "tier"),
    "trailing_stop": ("X", "#ff7f0e", "trailing stop"),
    "stop_loss": ("X", "#d62728", "stop loss"),
    "flatten": ("X", "#7b1fa2", "flatten"),
}


@dataclass(frozen=True)
class RegimeSpan:
    start: date
    end: date  # exclusive
    regime: str


def _dates(times_ms: IntArray) -> list[datetime]:
    return [datetime.fromtimestamp(int(t) / 1000, tz=UTC) for t in times_ms]


def _thin(times: IntArray, values: FloatArray) -> tuple[IntArray, FloatArray]:
    if times.size <= _MAX_POINTS:
        return times, values
    day_times, day_values = daily_points(times, values)
    return day_times + DAY_MS, day_values


def _shade(axes: Sequence[object], spans: Sequence[RegimeSpan]) -> None:
    for span in spans:
        color = REGIME_COLORS.get(span.regime, "#ffffff")
        start = datetime.combine(span.start, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(span.end, datetime.min.time(), tzinfo=UTC)
        for ax in axes:
            ax.axvspan(start, end, color=color, alpha=0.08, linewidth=0)  # type: ignore[attr-defined]


def write_plot(result: BacktestResult, path: Path, spans: Sequence[RegimeSpan] = ()) -> Path:
    import matplotlib  # noqa: PLC0415 - heavy, and Agg must be chosen before pyplot loads

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after matplotlib.use("Agg")

    fig = draw_report(result, spans)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_report(result: BacktestResult, spans: Sequence[RegimeSpan] = ()) -> Any:
    """The figure `write_plot` saves (pyplot's: the caller closes it). Axes, top to bottom:
    one price panel per symbol (at most 3), equity (log), drawdown, returns by month."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 - heavy; write_plot chose Agg

    series = result.series[:3]
    report = trader_report(result)
    rows = len(series) + 2
    grid = monthly_grid(report.monthly["strategy"])
    heat_height = 0.35 * len(grid) + 0.8
    fig = plt.figure(figsize=(12, 2.6 * rows + 1 + heat_height))
    layout = fig.add_gridspec(rows + 1, 1, height_ratios=[3] * len(series) + [3, 1.5, heat_height])
    # Any: matplotlib's stubs refuse the datetimes its date converter accepts at run time.
    axes: list[Any] = [fig.add_subplot(layout[0])]
    axes += [fig.add_subplot(layout[i], sharex=axes[0]) for i in range(1, rows)]
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    for ax, s in zip(axes, series, strict=False):
        times, closes = _thin(s.end_ts, s.close)
        ax.plot(_dates(times), closes, color="black", linewidth=0.8, label=s.symbol)
        fills = [f for f in result.fills if f.symbol == s.symbol]
        for kind, (marker, color, label) in _MARKERS.items():
            mine = [f for f in fills if f.kind == kind]
            if not mine:
                continue
            ax.scatter(
                [f.time for f in mine],
                [float(f.price) for f in mine],
                marker=marker,
                color=color,
                s=36,
                zorder=3,
                label=label,
            )
            if kind == "take_profit":
                for f in mine:
                    ax.annotate(
                        f"T{f.tier}",
                        (f.time, float(f.price)),
                        textcoords="offset points",
                        xytext=(0, 6),
                        fontsize=7,
                        ha="center",
                    )
        buys = [f for f in fills if f.side is Side.BUY and f.kind not in _MARKERS]
        if buys:
            ax.scatter([f.time for f in buys], [float(f.price) for f in buys], marker="^")
        ax.set_yscale("log")
        ax.set_ylabel(s.quote)
        ax.legend(loc="upper left", fontsize=7)
    curve = result.curve
    equity_ax, dd_ax = axes[len(series)], axes[len(series) + 1]
    t_strategy, v_strategy = _thin(curve.times, curve.strategy)
    t_hold, v_hold = _thin(curve.times, curve.buy_hold)
    equity_ax.plot(_dates(t_strategy), v_strategy, label="strategy", color="#1f77b4")
    equity_ax.plot(_dates(t_hold), v_hold, label="buy & hold", color="#7f7f7f")
    equity_ax.set_yscale("log")
    equity_ax.set_ylabel("equity (log)")
    equity_ax.legend(loc="upper left", fontsize=7)
    # Above the panel, not inside it: a box over the curves hides them somewhere on any run.
    equity_ax.set_title(_key_figures(result, report), fontsize=8, loc="left")
    cash = float(result.cash)
    dd_ax.fill_between(
        _dates(t_strategy),
        drawdown(np.concatenate(([cash], v_strategy)))[1:] * 100,
        color="#1f77b4",
        alpha=0.5,
        label="strategy",
    )
    dd_ax.plot(
        _dates(t_hold),
        drawdown(np.concatenate(([cash], v_hold)))[1:] * 100,
        color="#7f7f7f",
        linewidth=0.8,
        label="buy & hold",
    )
    dd_ax.set_ylabel("drawdown %")
    dd_ax.legend(loc="lower left", fontsize=7)
    _shade(list(axes), spans)
    _monthly_heatmap(fig.add_subplot(layout[rows]), grid)
    axes[0].set_title(
        f"qtbot backtest {result.start:%Y-%m-%d} → {result.end:%Y-%m-%d} "
        "(shading: Fed regime as known then — red tightening, grey neutral, green easing)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _key_figures(result: BacktestResult, report: TraderReport) -> str:
    mine, hold, trades = result.strategy, result.buy_hold, report.trades
    return (
        f"strategy {pct(mine.total_return)} (CAGR {pct(mine.cagr)}, max drawdown "
        f"{pct(mine.max_drawdown)}, exposure {pct(mine.exposure, sign=False)}); "
        f"buy & hold {pct(hold.total_return)} (CAGR {pct(hold.cagr)}, max drawdown "
        f"{pct(hold.max_drawdown)})\nwin rate {pct(trades.win_rate, sign=False)} of "
        f"{trades.closed_trips} closed trips, profit factor {factor(trades.profit_factor)}, "
        f"avg win {pct(trades.avg_win_return)}, avg loss {pct(trades.avg_loss_return)}"
    )


def _monthly_heatmap(ax: Any, grid: dict[str, list[float | None]]) -> None:
    """Strategy returns by UTC calendar month, one row a year, red to green around 0."""
    if not grid:
        ax.set_axis_off()
        return
    years = list(grid)
    values = np.array([[np.nan if v is None else v * 100 for v in grid[y]] for y in years])
    finite = values[np.isfinite(values)]
    limit = max(float(np.abs(finite).max()) if finite.size else 1.0, 1.0)
    ax.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    for row, col in zip(*np.nonzero(np.isfinite(values)), strict=True):
        value = float(values[row, col])
        label = f"{value:+.1f}" if abs(value) >= 0.05 else "0.0"
        ax.text(col, row, label, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(12), MONTHS, fontsize=8)
    ax.set_yticks(range(len(years)), years, fontsize=8)
    ax.set_title("strategy return by month, % (UTC)", fontsize=8)


def regime_spans(
    regime_of_day: Callable[[date], RegimeView | None], start: datetime, end: datetime
) -> list[RegimeSpan]:
    """Consecutive days with one regime, as `regime_of_day` reports each day."""
    spans: list[RegimeSpan] = []
    day = start.date()
    last = end.date()
    while day <= last:
        view = regime_of_day(day)
        name = view.regime if view is not None else "unknown"
        if spans and spans[-1].regime == name:
            spans[-1] = RegimeSpan(spans[-1].start, day + timedelta(days=1), name)
        else:
            spans.append(RegimeSpan(day, day + timedelta(days=1), name))
        day += timedelta(days=1)
    return spans
