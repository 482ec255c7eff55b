"""Whole candle files read column-wise into one (6, n) float64 block: timestamp (ms, exact as
a float below 2^53), open, high, low, close, volume, every bar checked.

CSV (plain or .gz) and freqtrade's JSON go through numpy's C parser (`np.loadtxt`); a file it
cannot take (odd header, a short or malformed row, a number format it does not parse) or
whose bars fail a check raises `Unreadable`, and the caller re-reads it with the row parser
(`bot.backtest.candle_text`), which names the line. freqtrade's feather needs pyarrow, an
optional extra (`pip install 'qtbot[feather]'`): importing it costs ~27 MB of resident memory
and its library ~47 MB more once it reads, so a CSV backtest never loads it.
"""

from __future__ import annotations

import gzip
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.backtest.candle_columns import first_problem, seconds_problem
from bot.backtest.candle_text import parse_candles
from bot.backtest.candle_types import HEADER, CandleFileError

Block = npt.NDArray[np.float64]  # shape (6, n): ts, open, high, low, close, volume
INSTALL_ARROW = "pip install 'qtbot[feather]' (or: pip install pyarrow)"


class Unreadable(Exception):
    """The columnar path cannot take this file; the row parser decides."""


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _check_header(path: Path) -> None:
    with _open(path) as handle:
        first = handle.readline(4096)
    try:
        names = first.decode("utf-8-sig").rstrip("\r\n").split(",")
    except UnicodeDecodeError:
        raise Unreadable from None
    if tuple(n.strip().lower() for n in names[:6]) != HEADER or len(names) != 6:
        raise Unreadable


def problem(block: Block) -> tuple[int, str] | None:
    """The first refused bar of a whole file (index, why), or None."""
    if block.shape[1] == 0:
        return None
    ts_f = block[0]
    whole = np.isfinite(ts_f) & (ts_f == np.floor(ts_f))
    if not whole.all():
        i = int(np.flatnonzero(~whole)[0])
        return i, f"timestamp {ts_f[i]!r} is not a whole number of milliseconds"
    huge = np.abs(ts_f) >= 2.0**62  # beyond int64 (and every unit's range)
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        return i, f"timestamp {ts_f[i]:.0f} is not milliseconds since 1970 (UTC)"
    ts = ts_f.astype(np.int64)
    why = seconds_problem(int(ts[0]))
    if why:
        return 0, why
    found = first_problem((ts, block[1], block[2], block[3], block[4], block[5]), None)
    return found


def read_csv(path: Path) -> Block:
    """The canonical CSV; `Unreadable` when only the row parser can tell what is wrong."""
    _check_header(path)
    try:
        with _open(path) as handle, warnings.catch_warnings():
            # A header-only file warns "input contained no data": the row parser says so.
            warnings.simplefilter("error", UserWarning)
            rows = np.loadtxt(
                handle, delimiter=",", skiprows=1, dtype=np.float64, comments=None, ndmin=2
            )
    except (ValueError, UnicodeDecodeError, EOFError, UserWarning):
        raise Unreadable from None
    if rows.shape[1] != 6:
        raise Unreadable
    block = np.ascontiguousarray(rows.T)
    del rows
    if problem(block) is not None:
        raise Unreadable
    return block


def read_json(path: Path, symbol: str) -> Block:
    """freqtrade's JSON: `[[ms, open, high, low, close, volume], ...]` (optionally .json.gz).
    A refused bar is named by its number ("candle 3")."""
    with _open(path) as handle:
        raw: bytes = handle.read().strip()
    body = raw[2:-2].replace(b"],[", b"\n") if raw.startswith(b"[[") else b""
    if raw.endswith(b"]]") and b"[" not in body and b"]" not in body:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)
                rows = np.loadtxt(
                    io.BytesIO(body), delimiter=",", dtype=np.float64, comments=None, ndmin=2
                )
        except (ValueError, UserWarning):
            rows = None
        if rows is not None and rows.shape[1] == 6:
            block = np.ascontiguousarray(rows.T)
            found = problem(block)
            if found is None:
                return block
            raise CandleFileError(f"{path} candle {found[0] + 1}: {found[1]}")
    return _json_rows(raw, path, symbol)


def _json_rows(raw: bytes, path: Path, symbol: str) -> Block:
    """Any other layout of the same list (spaces, nulls): checked row by row."""
    try:
        rows = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CandleFileError(f"{path}: not JSON: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise CandleFileError(f"{path}: JSON candles must be a list of [ms, o, h, l, c, v] lists")
    lines = [",".join(HEADER)]
    lines += [",".join("" if cell is None else str(cell) for cell in row) for row in rows]
    series = parse_candles(
        "\n".join(lines) + "\n", symbol, str(path), line_word="candle", line_shift=-1
    )
    return np.stack(
        [
            series.ts.astype(np.float64),
            series.open,
            series.high,
            series.low,
            series.close,
            series.volume,
        ]
    )


def read_feather(path: Path) -> Block:
    """freqtrade's feather: Arrow IPC, `date` a UTC timestamp (any unit, converted exactly to
    ms), open..volume floats."""
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional extra, +27 MB: only for feather files
        import pyarrow.ipc as pa_ipc  # noqa: PLC0415 - same
    except ImportError:
        raise CandleFileError(
            f"{path}: reading feather files needs pyarrow: {INSTALL_ARROW}"
        ) from None
    try:
        table = pa_ipc.open_file(pa.memory_map(str(path))).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise CandleFileError(f"{path}: not a feather (Arrow IPC) file: {exc}") from None
    missing = [c for c in ("date", *HEADER[1:]) if c not in table.column_names]
    if missing:
        raise CandleFileError(
            f"{path}: feather columns must include date,open,high,low,close,volume; "
            f"missing {','.join(missing)}"
        )
    date = table.column("date")
    if pa.types.is_timestamp(date.type):
        date = date.cast(pa.timestamp("ms", tz=date.type.tz), safe=False)
    elif not pa.types.is_integer(date.type):
        raise CandleFileError(f"{path}: column date is {date.type}, not a timestamp")
    columns = [date.cast(pa.int64())] + [table.column(n) for n in HEADER[1:]]
    if any(c.null_count for c in columns):
        raise CandleFileError(f"{path}: empty cells in the candle columns; the file is damaged")
    block = np.empty((6, table.num_rows), dtype=np.float64)
    for row, column in zip(block, columns, strict=True):
        row[:] = column.to_numpy()
    del table, columns
    found = problem(block)
    if found is not None:
        raise CandleFileError(f"{path} candle {found[0] + 1}: {found[1]}")
    return block
