"""Returns by calendar month and year, and the worst drawdown's dates, from an equity curve.

- A period's return: equity at the last bar close inside the period / equity at the last bar
  close of the period before - 1; the first period starts from the starting equity. Periods
  are UTC calendar months (years); a bar closing at midnight belongs to the day before it, as
  in `metrics.daily_points`. The first and last periods may be partial (the replay's span).
- Worst drawdown: its depth (as `metrics.drawdown`, every bar), the last peak before it, the
  trough, and the first close back at or above the peak (None while still under water).
- Longest drawdown: the longest time from a peak to the first close back at or above it (or
  to the end, still under water), in days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from bot.backtest.candles import FloatArray, IntArray, ms_to_datetime
from bot.backtest.metrics import daily_points, drawdown

_UNDER = -1e-12  # float noise at a peak is not a drawdown


def period_returns(
    times: IntArray, equity: FloatArray, initial: float, unit: str
) -> dict[str, float]:
    """{"2024-01": return, ...} for unit "M" (months) or {"2024": return} for "Y" (years);
    `times` are bar close times (ms), `equity` the value at each."""
    if unit not in ("M", "Y"):
        raise ValueError(f"unit must be 'M' or 'Y', not {unit!r}")
    day_ms, values = daily_points(times, equity)
    if day_ms.size == 0:
        return {}
    periods = day_ms.astype("datetime64[ms]").astype(f"datetime64[{unit}]")
    last = [*np.flatnonzero(periods[1:] != periods[:-1]).tolist(), periods.size - 1]
    ends = values[last]
    starts = np.concatenate(([initial], ends[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(starts > 0, ends / starts - 1.0, np.nan)
    return {str(periods[i]): float(r) for i, r in zip(last, returns, strict=True) if np.isfinite(r)}


@dataclass(frozen=True)
class DrawdownEpisode:
    depth: float  # negative fraction, 0.0 when the equity never fell below a peak
    peak: datetime | None
    trough: datetime | None
    recovered: datetime | None
    longest_days: float


def drawdown_episode(
    start_ms: int, times: IntArray, equity: FloatArray, initial: float
) -> DrawdownEpisode:
    """The worst and the longest drawdown of `equity` (values at bar close `times`, ms), which
    starts at `initial` at `start_ms`."""
    values = np.concatenate(([initial], equity))
    stamps = np.concatenate(([start_ms], times))
    falls = drawdown(values)
    under = falls < _UNDER
    if not under.any():
        return DrawdownEpisode(0.0, None, None, None, 0.0)
    trough = int(np.argmin(falls))
    top = float(np.maximum.accumulate(values)[trough])
    peak = int(np.flatnonzero(values[: trough + 1] >= top)[-1])
    back = np.flatnonzero(values[trough:] >= top)
    recovered = ms_to_datetime(int(stamps[trough + back[0]])) if back.size else None
    # Runs of bars under water: each starts after a peak (index >= 1, since index 0 is the
    # start) and ends at the first bar back at the peak, or at the end of the replay.
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)  # first index after each run
    last = stamps.size - 1
    spans = stamps[np.minimum(run_ends, last)] - stamps[run_starts - 1]
    return DrawdownEpisode(
        depth=float(falls[trough]),
        peak=ms_to_datetime(int(stamps[peak])),
        trough=ms_to_datetime(int(stamps[trough])),
        recovered=recovered,
        longest_days=float(spans.max()) / 86_400_000,
    )
