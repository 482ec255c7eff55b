"""The canonical candle CSV on disk, written so that no crash leaves a corrupt file.

`timestamp,open,high,low,close,volume`: the bar's open time in ms UTC, then floats written
with `repr` (the shortest text that reads back to the same float), so the same candles always
give the same bytes.

Downloads go to `NAME.csv.part` first, one complete page of lines per write and an fsync per
page; a crash leaves at worst a truncated last line, which `recover_part` drops. `install`
merges the part with the existing file into `NAME.csv.tmp`, fsyncs it and renames it over
`NAME.csv`: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

HEADER_LINE = "timestamp,open,high,low,close,volume\n"
PART_SUFFIX = ".part"
TMP_SUFFIX = ".tmp"

Candle = tuple[int, float, float, float, float, float]


class CandleFileProblem(ValueError):
    """An existing candle file this command will not merge into; the text says which and why."""


def candle_file_name(symbol: str, timeframe: str) -> str:
    """`BTC/USDT`, `1m` -> `BTC_USDT-1m.csv`; futures `BTC/USDT:USDT` -> `BTC_USDT_USDT-1m.csv`."""
    return f"{symbol.replace('/', '_').replace(':', '_')}-{timeframe}.csv"


def format_candle(candle: Sequence[float | int | None]) -> str:
    """One CSV line; a missing volume (some venues) is 0, a missing price is refused."""
    ts, *prices = candle[:5]
    if ts is None or any(x is None for x in prices):
        raise ValueError(f"incomplete candle {list(candle)!r}")
    volume = candle[5] if len(candle) > 5 else None
    fields = [repr(float(x)) for x in prices if x is not None]
    return f"{int(ts)},{','.join(fields)},{float(volume or 0)!r}\n"


def _timestamp(line: str) -> int:
    head, _, rest = line.partition(",")
    if rest.count(",") != 4:
        raise ValueError("expected 6 columns")
    return int(head)


@dataclass(frozen=True)
class FileSpan:
    """What an existing candle file holds: first and last open time (ms) and its row count."""

    first_ms: int
    last_ms: int
    rows: int


def read_span(path: Path) -> FileSpan | None:
    """The span of an existing canonical file; None when there is none or it has no rows.

    Raises `CandleFileProblem` for a file with another header, a truncated last line or a
    row that is not `int,float,...` (those are not ours to merge into).
    """
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8", "replace")
            if header.strip() != HEADER_LINE.strip():
                raise CandleFileProblem(
                    f"{path}: header is {header.strip()[:60]!r}, not {HEADER_LINE.strip()!r}"
                )
            rows = 0
            first = last = None
            for line_no, raw in enumerate(handle, start=2):
                if not raw.endswith(b"\n"):
                    raise CandleFileProblem(f"{path}: line {line_no} is cut short")
                try:
                    ts = _timestamp(raw.decode())
                except (ValueError, UnicodeDecodeError) as exc:
                    raise CandleFileProblem(f"{path}: line {line_no}: {exc}") from None
                if last is not None and ts <= last:
                    raise CandleFileProblem(f"{path}: line {line_no} is not after the one before")
                first = ts if first is None else first
                last = ts
                rows += 1
    except FileNotFoundError:
        return None
    if first is None or last is None:
        return None
    return FileSpan(first, last, rows)


@dataclass(frozen=True)
class PartRows:
    """What a part file holds: its rows, its last open time, and the rows outside `span`
    (those installing it would add), with their first and last open time."""

    rows: int = 0
    last_ms: int | None = None
    new: int = 0
    first_new_ms: int | None = None
    last_new_ms: int | None = None


def recover_part(part: Path, span: FileSpan | None = None) -> PartRows:
    """Read `part` line by line, cutting a truncated last line off (a crash mid-write).
    Lines starting with `#` say which download the part belongs to and are skipped.

    A part that does not read as ascending canonical rows is deleted (it is only a cache of
    what can be downloaded again).
    """
    try:
        handle = part.open("r+b")
    except FileNotFoundError:
        return PartRows()
    with handle:
        keep, rows, new = 0, 0, 0
        last = first_new = last_new = None
        try:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                keep += len(raw)
                if raw.startswith(b"#"):
                    continue
                ts = _timestamp(raw.decode())
                if last is not None and ts <= last:
                    raise ValueError("not ascending")
                rows, last = rows + 1, ts
                if span is None or ts < span.first_ms or ts > span.last_ms:
                    new, last_new = new + 1, ts
                    first_new = ts if first_new is None else first_new
        except (ValueError, UnicodeDecodeError):
            handle.close()
            part.unlink()
            return PartRows()
        if keep != handle.seek(0, os.SEEK_END):
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    return PartRows(rows, last, new, first_new, last_new)


class PartWriter:
    """Appends pages of candle lines to the part file; each page is written whole and synced."""

    def __init__(self, part: Path) -> None:
        self.path = part
        self._handle = part.open("ab")

    def append(self, candles: Iterable[Sequence[float | int | None]]) -> None:
        text = "".join(format_candle(c) for c in candles)
        if text:
            self._handle.write(text.encode())
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def write_raw(self, data: bytes) -> None:
        self._handle.write(data)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.close()

    def close(self) -> None:
        self._handle.close()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` through a synced temporary file and a rename."""
    tmp = target.with_name(target.name + TMP_SUFFIX)
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def install(target: Path, part: Path, span: FileSpan | None) -> None:
    """Merge `part` with `target` (rows before its first, its rows, rows after its last) into
    a temporary file, sync it, rename it over `target`, then drop `part`."""
    tmp = target.with_name(target.name + TMP_SUFFIX)
    with tmp.open("wb") as out:
        out.write(HEADER_LINE.encode())
        if span is None:
            _copy_part(part, out, lambda ts: True)
        else:
            _copy_part(part, out, lambda ts: ts < span.first_ms)
            with target.open("rb") as old:
                old.readline()
                shutil.copyfileobj(old, out, 1 << 20)
            _copy_part(part, out, lambda ts: ts > span.last_ms)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    part.unlink()


def _copy_part(part: Path, out: BinaryIO, wanted: Callable[[int], bool]) -> None:
    """Stream the part's rows that `wanted` keeps (two passes keep memory flat)."""
    with part.open("rb") as rows:
        out.writelines(
            raw for raw in rows if not raw.startswith(b"#") and wanted(_timestamp(raw.decode()))
        )
