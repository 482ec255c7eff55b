"""FRED series into a data directory, as `{SERIES}.csv` files `inputs_from_directory` reads.

Fetched through the daemon's own sources (`FredCsvDownload`, or `FredApi` with a key, and
`fred_url` for a mirror), so the same URL, timeout, size limit and key redaction apply. A file
that exists is extended: only observations from its last date on are requested, they replace
that date and what follows (FRED revises recent values), the older lines stay as they are.
The new file is written to a temporary name, synced and renamed: never half a file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.feeds.candle_files import write_atomically
from bot.feeds.fred_sources import (
    FredApi,
    FredCsvDownload,
    FredFetchError,
)
from bot.signals.fred import FredParseError, FredSeries, parse_fred_csv


class FredDownloadFailed(RuntimeError):
    """One line: the series could not be fetched or read; the file is unchanged."""


@dataclass(frozen=True)
class SeriesResult:
    series_id: str
    path: Path
    added: int
    rows: int
    last_date: date | None


def _value(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _lines(series: FredSeries) -> list[tuple[date, str]]:
    pairs = zip(series.dates, series.values, strict=True)
    rows = [(d, f"{d.isoformat()},{_value(v)}\n") for d, v in pairs]
    rows += [(d, f"{d.isoformat()},.\n") for d in series.missing]
    return sorted(rows)


def download_series(
    source: FredApi | FredCsvDownload, series_id: str, datadir: Path
) -> SeriesResult:
    path = datadir / f"{series_id}.csv"
    old_lines: list[str] = []
    old_last: date | None = None
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            old = parse_fred_csv(text, series_id, source=str(path))
        except FredParseError as exc:
            raise FredDownloadFailed(f"{exc}: move it aside to download it again") from None
        old_lines = [line for line in text.splitlines(keepends=True)[1:] if line.strip()]
        known = [d for d in (old.last_date, max(old.missing, default=None)) if d is not None]
        old_last = max(known) if known else None
    fetcher = dataclasses.replace(source, observation_start=old_last) if old_last else source
    try:
        fetched = fetcher.parse(fetcher.fetch_text(series_id), series_id)
    except (FredFetchError, FredParseError) as exc:
        raise FredDownloadFailed(f"FRED {series_id}: {exc}") from None
    new_rows = _lines(fetched)
    cut = new_rows[0][0] if new_rows else None
    kept = [line for line in old_lines if cut is None or date.fromisoformat(line[:10]) < cut]
    lines = kept + [line for _, line in new_rows]
    data = (f"observation_date,{series_id}\n" + "".join(lines)).encode()
    if not path.exists() or data != path.read_bytes():
        write_atomically(path, data)
    added = sum(1 for d, _ in new_rows if old_last is None or d > old_last)
    last = new_rows[-1][0] if new_rows else old_last
    return SeriesResult(series_id, path, added, len(lines), last)
