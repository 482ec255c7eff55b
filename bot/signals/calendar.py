"""FOMC decision calendar: when the next rate decision lands, and the blackout before it.

Decisions are published at 14:00 America/New_York (18:00 UTC in summer time, 19:00 UTC in
winter); the two unscheduled 2020 decisions carry their own times in the file (10:00 and
17:00). The shipped file is `bot/data/fomc_decisions.csv`:
`date,time_et,meeting_start,type,decision,change_bps,target_upper_after`; `time_et` may be
omitted (14:00 assumed) and `decision`, `change_bps`, `target_upper_after` may be blank for
meetings not yet held.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.signals.shipped_data import shipped_path
from bot.signals.text_file import UnreadableText, read_utf8

NEW_YORK = "America/New_York"
DEFAULT_DECISION_TIME = time(14, 0)
_REQUIRED_COLUMNS = ("date", "meeting_start", "type")


class CalendarFileError(ValueError):
    """A malformed FOMC calendar file; the message names the file and line."""


@dataclass(frozen=True)
class FomcDecision:
    """One FOMC decision. `at` is the publication time in UTC."""

    at: datetime
    meeting_start: date
    scheduled: bool
    decision: str | None  # "hike", "cut", "hold" or None when not yet known
    change_bps: int | None
    target_upper_after: float | None

    @property
    def day(self) -> date:
        """Decision day in New York."""
        return self.at.astimezone(_new_york()).date()


@dataclass(frozen=True)
class FomcCalendar:
    """Decisions sorted by time. All methods take `now` (timezone-aware) and read no clock."""

    decisions: tuple[FomcDecision, ...]
    # The decision times, for the searches every entry run makes.
    _times: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        times = [d.at for d in self.decisions]
        if times != sorted(times):
            raise ValueError("decisions must be sorted by time")
        object.__setattr__(self, "_times", tuple(times))

    @property
    def last_decision(self) -> FomcDecision | None:
        """The last decision in the file: after it, `next_decision` returns None."""
        return self.decisions[-1] if self.decisions else None

    def next_decision(self, now: datetime) -> FomcDecision | None:
        """The first decision strictly after `now`, or None past the end of the calendar."""
        _require_aware(now)
        i = bisect.bisect_right(self._times, now)
        return self.decisions[i] if i < len(self.decisions) else None

    def previous_decision(self, now: datetime) -> FomcDecision | None:
        """The latest decision at or before `now`."""
        _require_aware(now)
        i = bisect.bisect_right(self._times, now) - 1
        return self.decisions[i] if i >= 0 else None

    def hours_until_next_decision(self, now: datetime) -> float | None:
        decision = self.next_decision(now)
        if decision is None:
            return None
        return (decision.at - now).total_seconds() / 3600.0

    def in_blackout(self, now: datetime, hours_before: float, hours_after: float = 0.0) -> bool:
        """True within `hours_before` hours before a decision (or `hours_after` after one).

        The window before is (decision - hours_before, decision]; the one after is
        [decision, decision + hours_after). Both are measured in real elapsed hours, so a
        window spanning a DST change is still exactly that long.
        """
        if hours_before < 0 or hours_after < 0:
            raise ValueError("blackout hours must be >= 0")
        _require_aware(now)
        upcoming = self.next_decision(now)
        if upcoming is not None and upcoming.at - now < timedelta(hours=hours_before):
            return True
        previous = self.previous_decision(now)
        if previous is None:
            return False
        if previous.at == now and hours_before > 0:
            return True
        return now - previous.at < timedelta(hours=hours_after)


def parse_fomc_calendar(text: str, source: str = "<text>") -> FomcCalendar:
    """Parse the calendar CSV; errors name `source` and the line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    zone = _new_york()
    decisions: list[FomcDecision] = []
    lines: dict[datetime, int] = {}
    try:
        fields = tuple(reader.fieldnames or ())
        missing = [c for c in _REQUIRED_COLUMNS if c not in fields]
        if missing:
            raise CalendarFileError(f"{source} line 1: missing column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            try:
                decision = _parse_row(row, zone)
            except (ValueError, TypeError) as exc:
                raise CalendarFileError(f"{source} line {line}: {exc}") from None
            if decision.at in lines:
                raise CalendarFileError(
                    f"{source} line {line}: duplicate decision at {decision.at.isoformat()} "
                    f"(first on line {lines[decision.at]})"
                )
            lines[decision.at] = line
            decisions.append(decision)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: not this CSV
        raise CalendarFileError(f"{source} line {reader.line_num}: not CSV: {exc}") from None
    decisions.sort(key=lambda d: d.at)
    return FomcCalendar(tuple(decisions))


def _parse_row(row: dict[str, str | None], zone: ZoneInfo) -> FomcDecision:
    day = _day(row, "date")
    time_raw = (row.get("time_et") or "").strip()
    try:
        at_time = time.fromisoformat(time_raw) if time_raw else DEFAULT_DECISION_TIME
    except ValueError:
        raise ValueError(f"time_et {time_raw!r} is not HH:MM") from None
    local = datetime.combine(day, at_time, tzinfo=zone)
    kind = (row.get("type") or "").strip()
    if kind not in ("scheduled", "unscheduled"):
        raise ValueError(f"type must be scheduled or unscheduled, not {kind!r}")
    decision = (row.get("decision") or "").strip() or None
    if decision not in (None, "hike", "cut", "hold"):
        raise ValueError(f"decision must be hike, cut or hold, not {decision!r}")
    bps_raw = (row.get("change_bps") or "").strip()
    upper_raw = (row.get("target_upper_after") or "").strip()
    try:
        change_bps = int(bps_raw) if bps_raw else None
    except ValueError:
        raise ValueError(f"change_bps {bps_raw!r} is not a whole number") from None
    upper = _percent(upper_raw, "target_upper_after") if upper_raw else None
    return FomcDecision(
        at=local.astimezone(UTC),
        meeting_start=_day(row, "meeting_start"),
        scheduled=kind == "scheduled",
        decision=decision,
        change_bps=change_bps,
        target_upper_after=upper,
    )


def _day(row: dict[str, str | None], column: str) -> date:
    raw = (row.get(column) or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{column} {raw!r} is not a valid YYYY-MM-DD date") from None


def _percent(raw: str, column: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{column} {raw!r} is not a number (percent)")
    return value


def load_fomc_calendar(path: str | Path | None = None) -> FomcCalendar:
    """Load the calendar from `path`, or the copy shipped in `bot/data` when None. Every
    problem with the file - unreadable, binary, not UTF-8, malformed - is a CalendarFileError
    naming the file (and the line, when there is one)."""
    target = Path(path) if path is not None else shipped_path("fomc_decisions.csv")
    try:
        text = read_utf8(target)
    except UnreadableText as exc:
        raise CalendarFileError(f"FOMC calendar {exc}") from None
    except OSError as exc:
        raise CalendarFileError(f"FOMC calendar {target}: {exc.strerror or exc}") from None
    return parse_fomc_calendar(text, source=f"FOMC calendar {target}")


def _new_york() -> ZoneInfo:
    try:
        return ZoneInfo(NEW_YORK)
    except ZoneInfoNotFoundError as exc:
        raise RuntimeError(
            "time zone America/New_York not found: install the system tzdata package "
            "or the `tzdata` Python package"
        ) from exc


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
