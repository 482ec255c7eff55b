"""One symbol's candles as numpy arrays, and the millisecond time helpers they use.

`ts` holds the bars' open times in milliseconds since the epoch (UTC); prices and volume are
float64. `bot.backtest.candles` reads files into this form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

HEADER = ("timestamp", "open", "high", "low", "close", "volume")
DAY_MS = 86_400_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class CandleFileError(ValueError):
    """A malformed candle file or argument; the message names the file and line."""


@dataclass(frozen=True, eq=False)
class CandleSeries:
    """One symbol's bars, oldest first. `ts` = open times (ms UTC); `timeframe_ms` = bar length."""

    symbol: str
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    timeframe_ms: int
    source: str = ""

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def base(self) -> str:
        return self.symbol.partition("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.partition("/")[2]

    @cached_property
    def end_ts(self) -> IntArray:
        """Close times (ms): when each bar's close becomes known (computed once: the replay
        searches it on every step)."""
        return self.ts + self.timeframe_ms

    def time_of(self, index: int) -> datetime:
        return ms_to_datetime(int(self.ts[index]))

    def between(self, start: datetime | None, end: datetime | None) -> CandleSeries:
        """Bars opening at or after `start` and closing at or before `end` (None = open).
        A view of the same arrays: nothing is copied."""
        lo = 0 if start is None else int(np.searchsorted(self.ts, to_ms(start), "left"))
        if end is None:
            hi = len(self)
        else:
            # ts + timeframe <= end, searched without building the close-time array.
            hi = int(np.searchsorted(self.ts, to_ms(end) - self.timeframe_ms, "right"))
        return self.slice(lo, max(lo, hi))

    def slice(self, lo: int, hi: int) -> CandleSeries:
        return CandleSeries(
            self.symbol,
            self.ts[lo:hi],
            self.open[lo:hi],
            self.high[lo:hi],
            self.low[lo:hi],
            self.close[lo:hi],
            self.volume[lo:hi],
            self.timeframe_ms,
            self.source,
        )

    def daily_closes(self) -> list[tuple[date, float]]:
        """The close of each UTC day's last bar, for days whose last bar closes the day.

        A day is included only when its last bar ends at or after midnight, so a partial last
        day of intraday data is not passed off as a daily close.
        """
        if len(self) == 0:
            return []
        day = self.ts // DAY_MS
        last = np.flatnonzero(np.diff(day, append=day[-1] + 1))
        ends = self.ts[last] + self.timeframe_ms
        complete = ends >= (day[last] + 1) * DAY_MS
        return [
            (date.fromordinal(EPOCH_ORDINAL + int(day[i])), float(self.close[i]))
            for i, ok in zip(last, complete, strict=True)
            if ok
        ]


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def to_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def timeframe_of(ts: IntArray) -> int:
    """The smallest step between consecutive bars (a gap does not change it); a lone bar is
    taken as daily."""
    steps = np.diff(ts)
    return int(steps.min()) if steps.size else DAY_MS
