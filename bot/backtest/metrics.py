"""Performance figures of an equity curve. Pure numpy; floats (analytics, not the order path).

- total return: final / initial equity - 1.
- CAGR: (final / initial) ** (365 / days) - 1, days = calendar days replayed. None (shown
  "n/a") when fewer than `MIN_CAGR_DAYS` days were replayed - annualising a few days turns
  +1 % in a day into +3,678 % a year, and a few minutes overflow a float - when the equity
  ends at or below zero, or when the annual figure is too large for a float.
- max drawdown: deepest fall of the equity from its running peak, on every bar (negative).
- Sharpe, Sortino: on daily returns (equity at each UTC day's last bar, the starting equity
  before the first day), mean / standard deviation (sample, ddof=1) * sqrt(365); Sortino
  divides by the downside deviation sqrt(mean(min(r, 0) ** 2)). Risk-free rate 0. None when
  undefined (fewer than two days, or no variation / no down day).
- exposure: share of the replayed time in bars during which any position was held at some
  point (a bar with an entry or an exit counts whole).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.backtest.candles import DAY_MS, FloatArray, IntArray

PERIODS_PER_YEAR = 365
# Below this many replayed days CAGR is not stated: the total return says what happened.
MIN_CAGR_DAYS = 30.0


@dataclass(frozen=True)
class Performance:
    initial: float
    final: float
    total_return: float
    cagr: float | None
    max_drawdown: float
    sharpe: float | None
    sortino: float | None
    exposure: float
    fees: float
    days: float

    def as_dict(self) -> dict[str, float | None]:
        return {
            "initial_equity": _round(self.initial),
            "final_equity": _round(self.final),
            "total_return": _round(self.total_return),
            "cagr": _round(self.cagr),
            "max_drawdown": _round(self.max_drawdown),
            "sharpe": _round(self.sharpe),
            "sortino": _round(self.sortino),
            "exposure": _round(self.exposure),
            "fees_paid": _round(self.fees),
            "days": _round(self.days),
        }


def _round(value: float | None, digits: int = 8) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def drawdown(equity: FloatArray) -> FloatArray:
    """Fall from the running peak at every point (0 at a peak, negative below)."""
    if equity.size == 0:
        return equity
    peak = np.maximum.accumulate(equity)
    return np.where(peak > 0, equity / peak - 1.0, 0.0)


def daily_points(times: IntArray, equity: FloatArray) -> tuple[IntArray, FloatArray]:
    """Equity at the last point of each UTC day; `times` are bar close times (ms)."""
    if times.size == 0:
        return times, equity
    day = (times - 1) // DAY_MS  # a bar closing at midnight belongs to the day before
    last = np.flatnonzero(np.diff(day, append=day[-1] + 1))
    return day[last] * DAY_MS, equity[last]


def daily_returns(initial: float, daily_equity: FloatArray) -> FloatArray:
    series = np.concatenate(([initial], daily_equity))
    return series[1:] / series[:-1] - 1.0


def sharpe(returns: FloatArray) -> float | None:
    if returns.size < 2:
        return None
    std = float(np.std(returns, ddof=1))
    if std <= 0:
        return None
    return float(np.mean(returns)) / std * math.sqrt(PERIODS_PER_YEAR)


def sortino(returns: FloatArray) -> float | None:
    if returns.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside <= 0:
        return None
    return float(np.mean(returns)) / downside * math.sqrt(PERIODS_PER_YEAR)


def annualised(initial: float, final: float, days: float) -> float | None:
    """CAGR as a fraction; None under `MIN_CAGR_DAYS` days, for a non-positive start or end,
    or when it does not fit a float."""
    if days < MIN_CAGR_DAYS or initial <= 0 or final <= 0:
        return None
    try:
        cagr = (final / initial) ** (PERIODS_PER_YEAR / days) - 1.0
    except OverflowError:
        return None
    return cagr if math.isfinite(cagr) else None


def time_share(start_ms: int, times: IntArray, flags: FloatArray) -> float:
    """Share of the time from `start_ms` to the last of `times` (bar close times, ms) spent in
    intervals flagged 1.0; each flag covers the interval ending at its time."""
    if times.size == 0:
        return 0.0
    spans = np.diff(np.concatenate(([start_ms], times))).astype(np.float64)
    total_span = float(spans.sum())
    return float((spans * flags).sum()) / total_span if total_span > 0 else 0.0


def performance(
    start_ms: int,
    times: IntArray,
    equity: FloatArray,
    initial: float,
    exposed: FloatArray | None,
    fees: float,
) -> Performance:
    """Figures of `equity` sampled at bar close `times` (ms), starting from `initial`.

    `exposed` (same length, 1.0/0.0) marks the intervals ending at each time during which a
    position was held; None = always (buy-and-hold).
    """
    final = float(equity[-1]) if equity.size else initial
    days = (int(times[-1]) - start_ms) / DAY_MS if times.size else 0.0
    total = final / initial - 1.0 if initial > 0 else 0.0
    cagr = annualised(initial, final, days)
    worst = float(drawdown(np.concatenate(([initial], equity))).min()) if equity.size else 0.0
    _, daily = daily_points(times, equity)
    returns = daily_returns(initial, daily)
    if exposed is None or times.size == 0:
        exposure = 1.0 if times.size else 0.0
    else:
        exposure = time_share(start_ms, times, exposed)
    return Performance(
        initial=initial,
        final=final,
        total_return=total,
        cagr=cagr,
        max_drawdown=worst,
        sharpe=sharpe(returns),
        sortino=sortino(returns),
        exposure=exposure,
        fees=fees,
        days=days,
    )
