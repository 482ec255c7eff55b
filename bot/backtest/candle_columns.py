"""Checks on whole candle columns and the window of bars a backtest keeps.

What is refused is the same as for the row parser (`bot.backtest.candle_text`);
`first_problem` says which bar and why, for formats that have no lines to name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.backtest.candle_text import FINER_UNITS, LAST_MS, SECONDS_RANGE
from bot.backtest.candle_types import FloatArray, IntArray

BatchArrays = tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


@dataclass(frozen=True)
class Window:
    """Keep bars opening in [start_ms, end_ms); None = open on that side."""

    start_ms: int | None = None
    end_ms: int | None = None

    def bounds(self, ts: IntArray | FloatArray) -> tuple[int, int]:
        """The kept slice of ascending open times (ms, as integers or exact floats)."""
        lo = 0 if self.start_ms is None else int(np.searchsorted(ts, self.start_ms, "left"))
        hi = len(ts) if self.end_ms is None else int(np.searchsorted(ts, self.end_ms, "left"))
        return lo, max(lo, hi)


def seconds_problem(first_ts: int) -> str | None:
    """Why the file's first timestamp is seconds, not milliseconds (only it decides: a file
    counted from the epoch runs into the seconds range after 11.6 days)."""
    if SECONDS_RANGE[0] <= first_ts < SECONDS_RANGE[1]:
        return (
            f"timestamp {first_ts} looks like seconds since 1970; candle timestamps are "
            "milliseconds: multiply by 1000"
        )
    return None


def first_problem(batch: BatchArrays, previous_ts: int | None) -> tuple[int, str] | None:
    """The first refused row of `batch` (index, why), or None. `previous_ts` = the last kept
    row before this batch, None when there is none."""
    ts, o, h, low, c, v = batch
    bad = (ts < 0) | (ts > LAST_MS)
    order = np.diff(ts, prepend=ts[:1] - 1 if previous_ts is None else np.int64(previous_ts))
    bad |= order <= 0
    prices = np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(c)
    bad |= ~prices | ~np.isfinite(v) | (v < 0)
    bad |= ~((low <= np.minimum(o, c)) & (h >= np.maximum(o, c)) & (low > 0))
    hits = np.flatnonzero(bad)
    if hits.size == 0:
        return None
    i = int(hits[0])
    return i, _why(batch, i, previous_ts if i == 0 else int(ts[i - 1]))


def _why(batch: BatchArrays, i: int, before: int | None) -> str:
    ts = int(batch[0][i])
    o, h, low, c, v = (float(column[i]) for column in batch[1:])
    if ts < 0 or ts > LAST_MS:
        for unit, factor in FINER_UNITS:
            if SECONDS_RANGE[1] * factor <= ts <= LAST_MS * factor:
                return (
                    f"timestamp {ts} looks like {unit} since 1970; candle timestamps are "
                    f"milliseconds: divide by {factor}"
                )
        return f"timestamp {ts} is not milliseconds since 1970 (UTC)"
    if before is not None and ts <= before:
        return (
            f"timestamp {ts} not after the previous row's {before}; sort the rows by time "
            "and drop duplicates"
        )
    for name, value in (("open", o), ("high", h), ("low", low), ("close", c), ("volume", v)):
        if not np.isfinite(value):
            return f"{name} {value} is not a number"
    if v < 0:
        return f"volume {v} is negative"
    return (
        f"inconsistent OHLC {[o, h, low, c]}: prices must be positive with "
        "low <= open, close <= high"
    )
