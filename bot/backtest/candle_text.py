"""The row-by-row candle CSV parser: the reference for what a candle file may hold.

`bot.backtest.candle_columns` reads well-formed files much faster; whatever it cannot take
(a malformed row, an odd number format, a 5-column row) comes here, so every refusal names
the file and the line exactly as below. The rules are in `bot.backtest.candles`.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections.abc import Iterator

import numpy as np

from bot.backtest.candle_types import (
    HEADER,
    CandleFileError,
    CandleSeries,
    ms_to_datetime,
    timeframe_of,
)

# 2100-01-01 in ms: later stamps are unit mistakes or garbage, not candles.
LAST_MS = 4_102_444_800_000
# A first timestamp in this range is seconds since 1970 (2001..5138); as milliseconds it would
# be 1970-01-12..1973-03-03, long before any crypto market.
SECONDS_RANGE = (10**9, 10**11)
# Beyond LAST_MS: (unit, factor to milliseconds) for stamps that read as 1973..2100 in it.
FINER_UNITS = (("microseconds", 1_000), ("nanoseconds", 1_000_000))
_PRICES = ("open", "high", "low", "close")

Row = tuple[int, float, float, float, float, float]


def parse_candles(
    text: str, symbol: str, source: str = "<text>", line_word: str = "line", line_shift: int = 0
) -> CandleSeries:
    """Parse the CSV (header required); rows must be strictly ascending in time.

    `line_word`/`line_shift` name a row in messages for text made from another format (JSON
    candles: "candle 3" = line 4 of the CSV made from them)."""
    # Typed arrays, not a list of tuples: ~8 bytes a value instead of ~100 (a big file whose
    # columnar read failed comes here too).
    stamps: array[int] = array("q")
    values: list[array[float]] = [array("d") for _ in range(5)]
    for row in iter_rows(text, source, line_word, line_shift):
        stamps.append(row[0])
        for column, value in zip(values, row[1:], strict=True):
            column.append(value)
    if not stamps:
        raise CandleFileError(f"{source}: no candles")
    ts = np.frombuffer(stamps, dtype=np.int64).copy()
    o, h, low, c, v = (np.frombuffer(col, dtype=np.float64).copy() for col in values)
    return CandleSeries(symbol, ts, o, h, low, c, v, timeframe_of(ts), source)


def iter_rows(
    text: str, source: str, line_word: str = "line", line_shift: int = 0
) -> Iterator[Row]:
    """Yield each row checked; raise `CandleFileError` at the first bad one."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    header_seen = False
    previous: Row | None = None
    previous_line = 0

    def at(line_no: int) -> str:
        return f"{source} {line_word} {line_no + line_shift}"

    try:
        for line_no, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if not header_seen:
                if tuple(cell.strip().lower() for cell in row[:6]) != HEADER:
                    raise CandleFileError(f"{at(line_no)}: header must be {','.join(HEADER)}")
                header_seen = True
                continue
            parsed = parse_row(row, at(line_no))
            if previous is None:
                refuse_seconds(parsed[0], row[0], at(line_no))
            elif parsed[0] <= previous[0]:
                raise CandleFileError(
                    f"{at(line_no)}: timestamp {parsed[0]} not after the previous row's "
                    f"{previous[0]} ({line_word} {previous_line + line_shift}); sort the rows "
                    "by time and drop duplicates"
                )
            previous, previous_line = parsed, line_no
            yield parsed
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: not a candle CSV
        raise CandleFileError(f"{at(reader.line_num)}: not CSV: {exc}") from None


def refuse_seconds(ts: int, raw: str, at: str) -> None:
    if SECONDS_RANGE[0] <= ts < SECONDS_RANGE[1]:
        raise CandleFileError(
            f"{at}: timestamp {raw.strip()} looks like seconds since 1970 "
            f"(as milliseconds it is {ms_to_datetime(ts):%Y-%m-%d}); candle timestamps are "
            "milliseconds: multiply the column by 1000"
        )


def finer_unit_message(at: str, raw: str, ts: int) -> str | None:
    """The message for a stamp beyond 2100 that reads as micro- or nanoseconds, else None."""
    for unit, factor in FINER_UNITS:
        if SECONDS_RANGE[1] * factor <= ts <= LAST_MS * factor:
            return (
                f"{at}: timestamp {raw.strip()} looks like {unit} since 1970; candle "
                f"timestamps are milliseconds: divide the column by {factor}"
            )
    return None


def _timestamp(raw: str, at: str) -> int:
    try:
        value = float(raw)
    except ValueError:
        raise CandleFileError(f"{at}: timestamp {raw!r} is not a number") from None
    if not value.is_integer():  # NaN and inf included
        raise CandleFileError(f"{at}: timestamp {raw!r} is not a whole number of milliseconds")
    ts = int(value)
    if 0 <= ts <= LAST_MS:
        return ts
    message = finer_unit_message(at, raw, ts)
    raise CandleFileError(
        message or f"{at}: timestamp {raw!r} is not milliseconds since 1970 (UTC)"
    )


def parse_row(row: list[str], at: str) -> Row:
    if len(row) < 5:
        raise CandleFileError(f"{at}: expected 6 columns, found {len(row)}")
    ts = _timestamp(row[0], at)
    cells = [*row[1:5], row[5] if len(row) > 5 and row[5].strip() else "0"]
    values: list[float] = []
    for name, cell in zip((*_PRICES, "volume"), cells, strict=True):
        try:
            value = float(cell)
        except ValueError:
            raise CandleFileError(f"{at}: not a number in {row!r}") from None
        if not math.isfinite(value):
            raise CandleFileError(f"{at}: {name} {cell.strip()!r} is not finite")
        values.append(value)
    o, h, low, c, volume = values
    if volume < 0:
        raise CandleFileError(f"{at}: volume {cells[4].strip()} is negative")
    if not (low <= min(o, c) and h >= max(o, c) and low > 0):
        raise CandleFileError(
            f"{at}: inconsistent OHLC {row[1:5]!r}: prices must be positive "
            "with low <= open, close <= high"
        )
    return ts, o, h, low, c, volume
