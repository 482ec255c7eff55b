"""OHLCV candles for backtests: CSV `timestamp,open,high,low,close,volume` as numpy arrays.

`timestamp` is the bar's open time in milliseconds since the epoch (UTC). Any timeframe from
one minute to one day; the timeframe is the smallest step between consecutive bars, so a gap
(an exchange outage, weekends in a weekday-only file) does not change it. Prices are floats
here: the arrays only serve the vectorised search and the analytics; the order path converts
the prices it hands to the paper engine to Decimal.

What is refused (`CandleFileError`, naming the file and the line; nothing is repaired):

- a price or volume that is not a finite number (NaN, inf), a price <= 0, a negative volume,
  high below max(open, close) or low above min(open, close);
- rows out of time order or with the same timestamp (sort the file, drop duplicates);
- timestamps in another unit. Timestamps are read exactly as written and never converted (a
  guessed unit would silently shift every bar); instead a file is refused, with the factor
  to apply, when its first timestamp is 10^9..10^11 (seconds of 2001-5138, which read as
  milliseconds would be 1970-01-12..1973-03-03), or when any timestamp is beyond 2100 in
  milliseconds and reads as microseconds or nanoseconds of 1973-2100. Fractional timestamps
  are refused too;
- a file that is binary or not UTF-8.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.signals.text_file import UnreadableText, read_utf8

HEADER = ("timestamp", "open", "high", "low", "close", "volume")
DAY_MS = 86_400_000
_NAME = re.compile(r"^([A-Z0-9]+)[_-]([A-Z0-9]+)(?:[_-]|$)")

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
        """Bars opening at or after `start` and closing at or before `end` (None = open)."""
        lo = 0 if start is None else int(np.searchsorted(self.ts, to_ms(start), "left"))
        if end is None:
            hi = len(self)
        else:
            hi = int(np.searchsorted(self.ts + self.timeframe_ms, to_ms(end), "right"))
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
        ends = self.end_ts[last]
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


def symbol_from_name(name: str) -> str | None:
    """`BTC_USDT-1d.csv` -> `BTC/USDT`; None when the name does not start with BASE_QUOTE."""
    match = _NAME.match(Path(name).name.upper())
    return f"{match.group(1)}/{match.group(2)}" if match else None


def parse_candle_arg(arg: str) -> tuple[str | None, Path]:
    """`BTC/USDT=path.csv` -> ("BTC/USDT", path); a bare path -> (None, path)."""
    left, sep, right = arg.partition("=")
    if sep and re.fullmatch(r"[A-Za-z0-9]+/[A-Za-z0-9]+", left.strip()):
        return left.strip().upper(), Path(right.strip())
    return None, Path(arg)


def parse_candles(text: str, symbol: str, source: str = "<text>") -> CandleSeries:
    """Parse the CSV (header required); rows must be strictly ascending in time. What is
    refused, and why timestamps are never converted: the module docstring."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    rows: list[tuple[int, float, float, float, float, float]] = []
    header_seen = False
    previous_line = 0
    try:
        for line_no, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if not header_seen:
                if tuple(cell.strip().lower() for cell in row[:6]) != HEADER:
                    raise CandleFileError(
                        f"{source} line {line_no}: header must be {','.join(HEADER)}"
                    )
                header_seen = True
                continue
            rows.append(_parse_row(row, source, line_no))
            if len(rows) == 1:
                _refuse_seconds(rows[0][0], row[0], source, line_no)
            elif rows[-1][0] <= rows[-2][0]:
                raise CandleFileError(
                    f"{source} line {line_no}: timestamp {rows[-1][0]} not after the previous "
                    f"row's {rows[-2][0]} (line {previous_line}); sort the rows by time and "
                    "drop duplicates"
                )
            previous_line = line_no
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: not a candle CSV
        raise CandleFileError(f"{source} line {reader.line_num}: not CSV: {exc}") from None
    if not rows:
        raise CandleFileError(f"{source}: no candles")
    data = np.array(rows, dtype=np.float64)
    ts = data[:, 0].astype(np.int64)
    steps = np.diff(ts)
    timeframe = int(steps.min()) if steps.size else DAY_MS
    return CandleSeries(
        symbol,
        ts,
        data[:, 1].copy(),
        data[:, 2].copy(),
        data[:, 3].copy(),
        data[:, 4].copy(),
        data[:, 5].copy(),
        timeframe,
        source,
    )


# 2100-01-01 in ms: later stamps are unit mistakes or garbage, not candles.
LAST_MS = 4_102_444_800_000
# A first timestamp in this range is seconds since 1970 (2001..5138); as milliseconds it would
# be 1970-01-12..1973-03-03, long before any crypto market.
SECONDS_RANGE = (10**9, 10**11)
# Beyond LAST_MS: (unit, factor to milliseconds) for stamps that read as 1973..2100 in it.
_FINER_UNITS = (("microseconds", 1_000), ("nanoseconds", 1_000_000))
_PRICES = ("open", "high", "low", "close")


def _refuse_seconds(ts: int, raw: str, source: str, line_no: int) -> None:
    if SECONDS_RANGE[0] <= ts < SECONDS_RANGE[1]:
        raise CandleFileError(
            f"{source} line {line_no}: timestamp {raw.strip()} looks like seconds since 1970 "
            f"(as milliseconds it is {ms_to_datetime(ts):%Y-%m-%d}); candle timestamps are "
            "milliseconds: multiply the column by 1000"
        )


def _timestamp(raw: str, source: str, line_no: int) -> int:
    try:
        value = float(raw)
    except ValueError:
        raise CandleFileError(
            f"{source} line {line_no}: timestamp {raw!r} is not a number"
        ) from None
    if not value.is_integer():  # NaN and inf included
        raise CandleFileError(
            f"{source} line {line_no}: timestamp {raw!r} is not a whole number of milliseconds"
        )
    ts = int(value)
    if 0 <= ts <= LAST_MS:
        return ts
    for unit, factor in _FINER_UNITS:
        if SECONDS_RANGE[1] * factor <= ts <= LAST_MS * factor:
            raise CandleFileError(
                f"{source} line {line_no}: timestamp {raw.strip()} looks like {unit} since "
                f"1970; candle timestamps are milliseconds: divide the column by {factor}"
            )
    raise CandleFileError(
        f"{source} line {line_no}: timestamp {raw!r} is not milliseconds since 1970 (UTC)"
    )


def _parse_row(
    row: list[str], source: str, line_no: int
) -> tuple[int, float, float, float, float, float]:
    if len(row) < 5:
        raise CandleFileError(f"{source} line {line_no}: expected 6 columns, found {len(row)}")
    ts = _timestamp(row[0], source, line_no)
    cells = [*row[1:5], row[5] if len(row) > 5 and row[5].strip() else "0"]
    values: list[float] = []
    for name, cell in zip((*_PRICES, "volume"), cells, strict=True):
        try:
            value = float(cell)
        except ValueError:
            raise CandleFileError(f"{source} line {line_no}: not a number in {row!r}") from None
        if not math.isfinite(value):
            raise CandleFileError(f"{source} line {line_no}: {name} {cell.strip()!r} is not finite")
        values.append(value)
    o, h, low, c, volume = values
    if volume < 0:
        raise CandleFileError(f"{source} line {line_no}: volume {cells[4].strip()} is negative")
    if not (low <= min(o, c) and h >= max(o, c) and low > 0):
        raise CandleFileError(
            f"{source} line {line_no}: inconsistent OHLC {row[1:5]!r}: prices must be positive "
            "with low <= open, close <= high"
        )
    return ts, o, h, low, c, volume


def load_candles(arg: str | Path) -> CandleSeries:
    """Load `path` or `SYMBOL=path`; the symbol defaults to the file name (BTC_USDT-1d.csv)."""
    symbol, path = parse_candle_arg(str(arg))
    symbol = symbol or symbol_from_name(path.name)
    if symbol is None:
        raise CandleFileError(
            f"{path}: cannot tell the symbol from the file name; pass it as BTC/USDT={path}"
        )
    try:
        text = read_utf8(path)
    except UnreadableText as exc:
        raise CandleFileError(str(exc)) from None
    except OSError as exc:
        raise CandleFileError(f"{path}: {exc.strerror or exc}") from None
    return parse_candles(text, symbol, str(path))
