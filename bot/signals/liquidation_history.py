"""Recorded liquidation aggregates for backtests: `timestamp,long_liquidation_usd,short_...`.

Files: `/work/shared/data/liquidations/binance_{1d,4h}_{COIN}.csv` (CoinGlass aggregates of
Binance futures; timestamp = ms since epoch of the bar open, UTC) and the small samples in
`bot/data/liquidations/`. Binance pushes at most one liquidation per symbol per second, so
these totals undercount the market; use them for relative spikes, not absolute sizes.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.signals.liquidations import LiquidationBar
from bot.signals.shipped_data import shipped_path

HEADER = ("timestamp", "long_liquidation_usd", "short_liquidation_usd")
_BAR_IN_NAME = re.compile(r"_(\d+)([mhd])_")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class LiquidationFileError(ValueError):
    """A malformed aggregate file; names the file and line."""


def bar_duration_from_name(name: str) -> timedelta | None:
    """`binance_4h_BTC.csv` -> 4 hours; None when the name carries no bar size."""
    match = _BAR_IN_NAME.search(name)
    if match is None:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_liquidation_bars(
    text: str, symbol: str, duration: timedelta, source: str = "<text>"
) -> list[LiquidationBar]:
    """Parse the CSV; rows must be ascending, unique, non-negative and finite."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    bars: list[LiquidationBar] = []
    header_seen = False
    for line_no, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if not header_seen:
            if tuple(cell.strip() for cell in row) != HEADER:
                raise LiquidationFileError(
                    f"{source} line {line_no}: header must be {','.join(HEADER)}"
                )
            header_seen = True
            continue
        bar = _parse_row(row, symbol, duration, source, line_no)
        if bars and bar.start <= bars[-1].start:
            raise LiquidationFileError(
                f"{source} line {line_no}: timestamp {bar.start.isoformat()} is not after "
                f"{bars[-1].start.isoformat()}"
            )
        bars.append(bar)
    if not header_seen:
        raise LiquidationFileError(f"{source}: empty file")
    return bars


def _parse_row(
    row: list[str], symbol: str, duration: timedelta, source: str, line_no: int
) -> LiquidationBar:
    if len(row) != len(HEADER):
        raise LiquidationFileError(
            f"{source} line {line_no}: expected {len(HEADER)} columns, found {len(row)}"
        )
    try:
        millis = int(row[0].strip())
        long_usd = float(row[1])
        short_usd = float(row[2])
    except ValueError:
        raise LiquidationFileError(f"{source} line {line_no}: not a number in {row!r}") from None
    if not 0 <= millis <= 4_102_444_800_000:  # up to 2100-01-01
        raise LiquidationFileError(
            f"{source} line {line_no}: timestamp {row[0].strip()!r} is not milliseconds since 1970"
        )
    for value in (long_usd, short_usd):
        if not math.isfinite(value) or value < 0:
            raise LiquidationFileError(
                f"{source} line {line_no}: amounts must be finite and >= 0, got {value!r}"
            )
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    return LiquidationBar(start, duration, symbol, long_usd, short_usd)


def load_liquidation_bars(
    path: str | Path, symbol: str | None = None, duration: timedelta | None = None
) -> list[LiquidationBar]:
    """Read a recorded aggregate file. The bar size and symbol default to the file name
    (`binance_1d_BTC.csv` -> 1 day, "BTC")."""
    target = Path(path)
    bar = duration or bar_duration_from_name(target.name)
    if bar is None:
        raise LiquidationFileError(f"{target}: bar size not in the name; pass duration")
    label = symbol or target.stem.rsplit("_", 1)[-1]
    return parse_liquidation_bars(target.read_text(encoding="utf-8"), label, bar, str(target))


def load_shipped_liquidation_bars(coin: str = "BTC", timeframe: str = "1d") -> list[LiquidationBar]:
    """The small samples shipped in `bot/data/liquidations` (see SOURCES.md there)."""
    return load_liquidation_bars(shipped_path("liquidations", f"binance_{timeframe}_{coin}.csv"))


def resample_bars(bars: Sequence[LiquidationBar], duration: timedelta) -> list[LiquidationBar]:
    """Sum bars into longer ones aligned on the epoch (4h -> 1d: UTC days).

    Bars must be shorter than `duration` and divide it; output keeps only non-empty buckets.
    """
    if not bars:
        return []
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    sums: dict[datetime, list[float]] = {}
    for bar in bars:
        if duration % bar.duration != timedelta(0):
            raise ValueError(f"{bar.duration} bars do not divide {duration}")
        start = epoch + ((bar.start - epoch) // duration) * duration
        pair = sums.setdefault(start, [0.0, 0.0])
        pair[0] += bar.long_usd
        pair[1] += bar.short_usd
    symbol = bars[0].symbol
    return [
        LiquidationBar(start, duration, symbol, pair[0], pair[1])
        for start, pair in sorted(sums.items())
    ]
