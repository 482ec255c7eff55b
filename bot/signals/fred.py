"""FRED time series: one typed series and the parsers for FRED's CSV and JSON formats.

FRED serves the same series in two CSV dialects: the current `observation_date,SERIES`
header and the older `DATE,SERIES`. Missing values are written as `.` (or left blank in
some copies). Values keep FRED's own units (WALCL: millions of USD; DFF, DFEDTARU,
DFEDTARL: percent per year). Analytics here use floats; nothing in this module sits on
the order path.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.signals.text_file import UnreadableText, read_utf8

DATE_HEADERS = frozenset({"date", "observation_date"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MISSING_MARKERS = frozenset({"", "."})


class FredParseError(ValueError):
    """A FRED payload that cannot be read; names the source, the series and the line."""

    def __init__(self, source: str, series_id: str | None, line: int | None, problem: str):
        self.source = source
        self.series_id = series_id
        self.line = line
        self.problem = problem
        where = source if line is None else f"{source} line {line}"
        series = f" ({series_id})" if series_id else ""
        super().__init__(f"{where}{series}: {problem}")


@dataclass(frozen=True)
class FredSeries:
    """Observations of one FRED series, ascending by date, missing values left out.

    `dates[i]` carries `values[i]` in the series' own unit. `missing` lists the dates FRED
    published without a value (holidays, not yet released), kept so callers can tell a gap
    from a value that was never there.
    """

    series_id: str
    dates: tuple[date, ...]
    values: tuple[float, ...]
    missing: tuple[date, ...] = ()
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.dates) != len(self.values):
            raise ValueError("dates and values must have the same length")
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError(f"{self.series_id}: dates must be strictly ascending")

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def first_date(self) -> date | None:
        return self.dates[0] if self.dates else None

    @property
    def last_date(self) -> date | None:
        return self.dates[-1] if self.dates else None

    def index_at_or_before(self, day: date) -> int | None:
        """Index of the last observation dated on or before `day`, or None."""
        i = bisect.bisect_right(self.dates, day) - 1
        return i if i >= 0 else None

    def value_at_or_before(self, day: date) -> float | None:
        i = self.index_at_or_before(day)
        return None if i is None else self.values[i]

    def through(self, day: date) -> FredSeries:
        """The series as known up to and including `day` (for point-in-time use)."""
        n = bisect.bisect_right(self.dates, day)
        missing = tuple(d for d in self.missing if d <= day)
        return FredSeries(self.series_id, self.dates[:n], self.values[:n], missing, self.source)

    def since(self, day: date) -> FredSeries:
        """Observations dated on or after `day`."""
        n = bisect.bisect_left(self.dates, day)
        missing = tuple(d for d in self.missing if d >= day)
        return FredSeries(self.series_id, self.dates[n:], self.values[n:], missing, self.source)


def _parse_value(raw: str, source: str, series_id: str, line: int) -> float | None:
    text = raw.strip()
    if text in MISSING_MARKERS:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FredParseError(source, series_id, line, f"value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise FredParseError(source, series_id, line, f"value {text!r} is not finite")
    return value


def _parse_date(raw: str, source: str, series_id: str | None, line: int) -> date:
    text = raw.strip()
    if not _ISO_DATE.match(text):
        raise FredParseError(source, series_id, line, f"date {text!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FredParseError(source, series_id, line, f"date {text!r} does not exist") from None


class _SeriesBuilder:
    def __init__(self, source: str, series_id: str) -> None:
        self.source = source
        self.series_id = series_id
        self.dates: list[date] = []
        self.values: list[float] = []
        self.missing: list[date] = []
        self._last: date | None = None

    def add(self, day: date, value: float | None, line: int) -> None:
        if self._last is not None and day <= self._last:
            problem = f"date {day.isoformat()} is not after {self._last.isoformat()}"
            raise FredParseError(self.source, self.series_id, line, problem)
        self._last = day
        if value is None:
            self.missing.append(day)
        else:
            self.dates.append(day)
            self.values.append(value)

    def build(self) -> FredSeries:
        return FredSeries(
            self.series_id,
            tuple(self.dates),
            tuple(self.values),
            tuple(self.missing),
            self.source,
        )


def parse_fred_csv(text: str, series_id: str | None = None, source: str = "<text>") -> FredSeries:
    """Parse FRED's CSV (`DATE,SERIES` or `observation_date,SERIES`).

    `series_id`, when given, must match the header's second column (case-insensitive).
    `.` or an empty cell is a missing value. Blank lines are ignored. Anything else that does
    not fit raises `FredParseError` naming `source`, the series and the 1-based line number.
    """
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    builder: _SeriesBuilder | None = None
    try:
        for line_no, row in enumerate(rows, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if builder is None:
                builder = _start_from_header(row, series_id, source, line_no)
                continue
            if len(row) != 2:
                problem = f"expected 2 columns (date,value), found {len(row)}"
                raise FredParseError(source, builder.series_id, line_no, problem)
            day = _parse_date(row[0], source, builder.series_id, line_no)
            builder.add(day, _parse_value(row[1], source, builder.series_id, line_no), line_no)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: not a FRED CSV
        where = builder.series_id if builder else series_id
        raise FredParseError(source, where, rows.line_num, f"not CSV: {exc}") from None
    if builder is None:
        raise FredParseError(source, series_id, None, "no header: the file is empty")
    return builder.build()


def _start_from_header(
    row: list[str], expected: str | None, source: str, line_no: int
) -> _SeriesBuilder:
    cells = [cell.strip() for cell in row]
    if len(cells) != 2 or cells[0].lower() not in DATE_HEADERS or not cells[1]:
        problem = f"header {','.join(cells)!r} is not DATE,SERIES or observation_date,SERIES"
        raise FredParseError(source, expected, line_no, problem)
    found = cells[1]
    if expected is not None and found.upper() != expected.upper():
        problem = f"header names series {found!r}, expected {expected!r}"
        raise FredParseError(source, expected, line_no, problem)
    return _SeriesBuilder(source, expected or found)


def parse_fred_api_json(text: str, series_id: str, source: str = "<json>") -> FredSeries:
    """Parse the JSON of FRED's `fred/series/observations` endpoint.

    Errors name the observation's position (`line` = 1-based index in `observations`).
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FredParseError(source, series_id, exc.lineno, f"invalid JSON: {exc.msg}") from None
    observations = payload.get("observations") if isinstance(payload, dict) else None
    if not isinstance(observations, list):
        raise FredParseError(source, series_id, None, "no 'observations' list in the response")
    builder = _SeriesBuilder(source, series_id)
    for position, obs in enumerate(observations, start=1):
        if not isinstance(obs, dict) or "date" not in obs or "value" not in obs:
            problem = "observation lacks 'date' or 'value'"
            raise FredParseError(source, series_id, position, problem)
        day = _parse_date(str(obs["date"]), source, series_id, position)
        builder.add(day, _parse_value(str(obs["value"]), source, series_id, position), position)
    return builder.build()


def load_fred_csv(path: str, series_id: str | None = None) -> FredSeries:
    """Read and parse a FRED CSV file; errors name the file. A binary or non-UTF-8 file is a
    FredParseError; OSError when the file cannot be read at all."""
    try:
        text = read_utf8(Path(path))
    except UnreadableText as exc:
        raise FredParseError(str(path), series_id, exc.line, exc.problem) from None
    return parse_fred_csv(text, series_id, source=str(path))
