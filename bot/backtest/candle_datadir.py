"""Which candle files a backtest reads: from a data directory by symbol and timeframe, or the
daily BTC/USDT and ETH/USDT history shipped in the package.

A data directory holds `PAIR-TIMEFRAME.ext` files, as `qtbot download-data` writes them and as
freqtrade keeps them (`BTC_USDT-1m.feather`, `ETH_USDT-1d.json`; futures
`futures/BTC_USDT_USDT-1h-futures.feather` for `BTC/USDT:USDT`; freqtrade names one month
`1Mo`). When several formats of one file exist, the first of `EXTENSIONS` wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bot.backtest.candle_types import CandleFileError
from bot.signals.shipped_data import SHIPPED_DATA_DIR

SHIPPED_CANDLES_DIR = SHIPPED_DATA_DIR / "candles"
SHIPPED_SYMBOLS = ("BTC/USDT", "ETH/USDT")
EXTENSIONS = (".csv", ".csv.gz", ".feather", ".json", ".json.gz")
_TIMEFRAME = re.compile(r"^[1-9][0-9]*(m|h|d|w|M)$")


def pair_file_stem(symbol: str) -> str:
    """freqtrade's file name of a pair: `BTC/USDT` -> `BTC_USDT`, `BTC/USDT:USDT` ->
    `BTC_USDT_USDT`."""
    return re.sub(r"[/:\s.@$+]", "_", symbol)


def spot_symbol(symbol: str) -> str:
    """`BTC/USDT:USDT` (a futures pair) -> `BTC/USDT`: the backtest's symbol."""
    return symbol.partition(":")[0]


def find_candle_files(directory: Path, symbols: Sequence[str], timeframe: str) -> list[str]:
    """One `SYMBOL=path` argument per symbol; a missing file is one line naming what was
    looked for and the timeframes the directory does have for that pair."""
    if not _TIMEFRAME.match(timeframe):
        raise CandleFileError(f"--timeframe {timeframe!r}: use a form like 1m, 5m, 1h, 4h, 1d")
    if not directory.is_dir():
        raise CandleFileError(f"--datadir {directory}: not a directory")
    file_tf = timeframe[:-1] + "Mo" if timeframe.endswith("M") else timeframe
    found = []
    for symbol in symbols:
        stem = pair_file_stem(symbol)
        futures = ":" in symbol
        names = [f"{stem}-{file_tf}{'-futures' if futures else ''}{ext}" for ext in EXTENSIONS]
        places = [directory / "futures", directory] if futures else [directory]
        path = next((p / n for p in places for n in names if (p / n).is_file()), None)
        if path is None:
            raise CandleFileError(_missing(directory, symbol, stem, timeframe, places))
        found.append(f"{spot_symbol(symbol)}={path}")
    return found


def _missing(directory: Path, symbol: str, stem: str, timeframe: str, places: list[Path]) -> str:
    have = sorted(
        {
            m.group(1)
            for p in places
            if p.is_dir()
            for f in p.iterdir()
            if (m := re.match(rf"^{re.escape(stem)}-([0-9]+[A-Za-z]+)", f.name))
        }
    )
    there = f"; it has {', '.join(have)} for {symbol}" if have else ""
    return (
        f"--datadir {directory}: no {timeframe} candles for {symbol} "
        f"({stem}-{timeframe}.csv/.feather/.json){there}; download them with "
        f"qtbot download-data --symbols {symbol} --timeframe {timeframe} --datadir {directory}"
    )


def shipped_candles(symbols: Sequence[str] | None = None) -> list[str]:
    """The shipped daily history (2017-08 -> 2026-08) for `symbols` (None = both)."""
    wanted = list(symbols) if symbols else list(SHIPPED_SYMBOLS)
    unknown = [s for s in wanted if spot_symbol(s) not in SHIPPED_SYMBOLS]
    if unknown:
        raise CandleFileError(
            f"the shipped candles cover {' and '.join(SHIPPED_SYMBOLS)} only, not "
            f"{', '.join(unknown)}: give --candles FILE or --datadir DIR "
            "(qtbot download-data fetches them)"
        )
    return [
        f"{spot_symbol(s)}={SHIPPED_CANDLES_DIR / (pair_file_stem(spot_symbol(s)) + '-1d.csv.gz')}"
        for s in wanted
    ]
