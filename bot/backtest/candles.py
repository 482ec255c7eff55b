"""OHLCV candles for backtests, read from files into numpy arrays (float64 prices).

Formats, told by the file name: the canonical CSV `timestamp,open,high,low,close,volume`
(`.csv` or `.csv.gz`; timestamp = the bar's open time in milliseconds since the epoch, UTC),
and freqtrade's data files as they are: `.feather` (Arrow IPC, `date` a UTC timestamp) and
`.json`/`.json.gz` (`[[ms, open, high, low, close, volume], ...]`). Any timeframe from one
minute to one day; the timeframe is the smallest step between consecutive bars, so a gap (an
exchange outage, weekends in a weekday-only file) does not change it.

How a file is read (`bot.backtest.candle_formats`): column-wise by numpy's C parser, every bar
checked; anything that parser cannot take goes to the row parser (`candle_text`), which names
the line. A file of 4 MB or more is then kept as a binary copy (`candle_cache`) that later runs
memory-map. `load_candles(arg, start, end, history)` keeps only the bars opening in
[start - history, end): from a mapped copy only those pages are ever read, so memory follows
the asked range, not the file.

What is refused (`CandleFileError`, naming the file and the line, or for feather and JSON the
candle number; nothing is repaired):

- a price or volume that is not a finite number (NaN, inf), a price <= 0, a negative volume,
  high below max(open, close) or low above min(open, close);
- rows out of time order or with the same timestamp (sort the file, drop duplicates);
- timestamps in another unit. Timestamps are read exactly as written and never converted (a
  guessed unit would silently shift every bar); instead a file is refused, with the factor
  to apply, when its first timestamp is 10^9..10^11 (seconds of 2001-5138, which read as
  milliseconds would be 1970-01-12..1973-03-03), or when any timestamp is beyond 2100 in
  milliseconds and reads as microseconds or nanoseconds of 1973-2100. Fractional timestamps
  are refused too. A feather `date` column carries its unit and is converted exactly;
- a file that is binary or not UTF-8;
- a range (`start`/`end`) in which the file has no bar: one line giving the file's own span.
"""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bot.backtest import candle_cache
from bot.backtest.candle_columns import Window
from bot.backtest.candle_formats import (
    INSTALL_ARROW,
    Block,
    Unreadable,
    read_csv,
    read_feather,
    read_json,
)
from bot.backtest.candle_text import parse_candles
from bot.backtest.candle_types import (
    DAY_MS,
    EPOCH_ORDINAL,
    HEADER,
    CandleFileError,
    CandleSeries,
    FloatArray,
    IntArray,
    ms_to_datetime,
    timeframe_of,
    to_ms,
)
from bot.signals.text_file import UnreadableText, read_utf8

__all__ = [
    "DAY_MS",
    "EPOCH_ORDINAL",
    "HEADER",
    "INSTALL_ARROW",
    "CandleFileError",
    "CandleSeries",
    "FloatArray",
    "IntArray",
    "load_candles",
    "ms_to_datetime",
    "parse_candle_arg",
    "parse_candles",
    "symbol_from_name",
    "to_ms",
]

_NAME = re.compile(r"^([A-Z0-9]+)[_-]([A-Z0-9]+)(?:[_-]|$)")
CSV_SUFFIXES = (".csv", ".csv.gz")
FEATHER_SUFFIXES = (".feather",)
JSON_SUFFIXES = (".json", ".json.gz")


def symbol_from_name(name: str) -> str | None:
    """`BTC_USDT-1d.csv` -> `BTC/USDT`; None when the name does not start with BASE_QUOTE.
    freqtrade's futures names (`BTC_USDT_USDT-1h-futures.feather`) give the same."""
    match = _NAME.match(Path(name).name.upper())
    return f"{match.group(1)}/{match.group(2)}" if match else None


def parse_candle_arg(arg: str) -> tuple[str | None, Path]:
    """`BTC/USDT=path.csv` -> ("BTC/USDT", path); a bare path -> (None, path)."""
    left, sep, right = arg.partition("=")
    if sep and re.fullmatch(r"[A-Za-z0-9]+/[A-Za-z0-9]+", left.strip()):
        return left.strip().upper(), Path(right.strip())
    return None, Path(arg)


def file_format(path: Path) -> str:
    """ "csv", "feather" or "json" from the name; anything else is read as CSV."""
    name = path.name.lower()
    if name.endswith(FEATHER_SUFFIXES):
        return "feather"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    return "csv"


def load_candles(
    arg: str | Path,
    start: datetime | None = None,
    end: datetime | None = None,
    history: timedelta = timedelta(0),
) -> CandleSeries:
    """Load `path` or `SYMBOL=path` (the symbol defaults to the file name, BTC_USDT-1d.csv),
    keeping the bars opening in [start - history, end) (None = that end of the file).
    `history` is look-back the strategy reads before `start` (the anti-chase closes)."""
    symbol, path = parse_candle_arg(str(arg))
    symbol = symbol or symbol_from_name(path.name)
    if symbol is None:
        raise CandleFileError(
            f"{path}: cannot tell the symbol from the file name; pass it as BTC/USDT={path}"
        )
    window = Window(
        to_ms(start - history) if start is not None else None,
        to_ms(end) if end is not None else None,
    )
    try:
        block = _block(path, symbol)
    except OSError as exc:
        raise CandleFileError(f"{path}: {exc.strerror or exc}") from None
    if block.shape[1] == 0:
        raise CandleFileError(f"{path}: no candles")
    lo, hi = window.bounds(block[0])
    ts = block[0, lo:hi].astype(np.int64)
    o, h, low, c, v = (block[i, lo:hi] for i in range(1, 6))
    if not isinstance(block, np.memmap) and hi - lo < block.shape[1]:
        o, h, low, c, v = (a.copy() for a in (o, h, low, c, v))  # free the rest of the file
    series = CandleSeries(symbol, ts, o, h, low, c, v, timeframe_of(ts), str(path))
    if (start is not None or end is not None) and len(series.between(start, end)) == 0:
        raise CandleFileError(_no_bars_message(path, block, start, end))
    return series


def _block(path: Path, symbol: str) -> Block:
    """The whole file as a (6, n) block: the cached copy when there is one, else parsed (and
    cached when large)."""
    stat = path.stat()
    cached = candle_cache.load(path, stat)
    if cached is not None:
        return cached
    kind = file_format(path)
    if kind == "feather":
        block = read_feather(path)
    elif kind == "json":
        block = read_json(path, symbol)
    else:
        try:
            block = read_csv(path)
        except Unreadable:
            block = _read_rows(path, symbol)
    return candle_cache.store(path, stat, block)


def _read_rows(path: Path, symbol: str) -> Block:
    """The row parser: names the line of whatever the columnar reader could not take."""
    try:
        text = _gunzip_text(path) if path.name.lower().endswith(".gz") else read_utf8(path)
    except UnreadableText as exc:
        raise CandleFileError(str(exc)) from None
    s = parse_candles(text, symbol, str(path))
    return np.stack([s.ts.astype(np.float64), s.open, s.high, s.low, s.close, s.volume])


def _gunzip_text(path: Path) -> str:
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:
        raise CandleFileError(f"{path}: not a gzip file ({exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CandleFileError(f"{path} line {line}: not UTF-8 text; save it as UTF-8") from None


def _day(ms: int) -> str:
    return f"{ms_to_datetime(ms):%Y-%m-%d}"


def _no_bars_message(path: Path, block: Block, start: datetime | None, end: datetime | None) -> str:
    asked = f"from {start:%Y-%m-%d}" if start else ""
    asked += f"{' ' if asked else ''}to {end:%Y-%m-%d}" if end else ""
    span = f"{_day(int(block[0, 0]))} to {_day(int(block[0, -1]))}"
    return (
        f"{path}: no candles {asked} (its candles run {span}); choose --from/--to inside "
        "that range or load more data (qtbot download-data)"
    )
