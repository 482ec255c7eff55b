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
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.signals.shipped_data import shipped_path

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

    def __post_init__(self) -> None:
        times = [d.at for d in self.decisions]
        if times != sorted(times):
            raise ValueError("decisions must be sorted by time")

    @property
    def last_decision(self) -> FomcDecision | None:
        """The last decision in the file: after it, `next_decision` returns None."""
        return self.decisions[-1] if self.decisions else None

    def next_decision(self, now: datetime) -> FomcDecision | None:
        """The first decision strictly after `now`, or None past the end of the calendar."""
        _require_aware(now)
        i = bisect.bisect_right([d.at for d in self.decisions], now)
        return self.decisions[i] if i < len(self.decisions) else None

    def previous_decision(self, now: datetime) -> FomcDecision | None:
        """The latest decision at or before `now`."""
        _require_aware(now)
        i = bisect.bisect_right([d.at for d in self.decisions], now) - 1
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
    fields = tuple(reader.fieldnames or ())
    missing = [c for c in _REQUIRED_COLUMNS if c not in fields]
    if missing:
        raise CalendarFileError(f"{source} line 1: missing column(s) {', '.join(missing)}")
    zone = _new_york()
    decisions: list[FomcDecision] = []
    for row in reader:
        line = reader.line_num
        try:
            decisions.append(_parse_row(row, zone))
        except (ValueError, TypeError) as exc:
            raise CalendarFileError(f"{source} line {line}: {exc}") from None
    decisions.sort(key=lambda d: d.at)
    for a, b in itertools.pairwise(decisions):
        if a.at == b.at:
            raise CalendarFileError(f"{source}: duplicate decision at {a.at.isoformat()}")
    return FomcCalendar(tuple(decisions))


def _parse_row(row: dict[str, str | None], zone: ZoneInfo) -> FomcDecision:
    day = date.fromisoformat((row.get("date") or "").strip())
    time_raw = (row.get("time_et") or "").strip()
    at_time = time.fromisoformat(time_raw) if time_raw else DEFAULT_DECISION_TIME
    local = datetime.combine(day, at_time, tzinfo=zone)
    kind = (row.get("type") or "").strip()
    if kind not in ("scheduled", "unscheduled"):
        raise ValueError(f"type must be scheduled or unscheduled, not {kind!r}")
    decision = (row.get("decision") or "").strip() or None
    if decision not in (None, "hike", "cut", "hold"):
        raise ValueError(f"decision must be hike, cut or hold, not {decision!r}")
    bps_raw = (row.get("change_bps") or "").strip()
    upper_raw = (row.get("target_upper_after") or "").strip()
    return FomcDecision(
        at=local.astimezone(UTC),
        meeting_start=date.fromisoformat((row.get("meeting_start") or "").strip()),
        scheduled=kind == "scheduled",
        decision=decision,
        change_bps=int(bps_raw) if bps_raw else None,
        target_upper_after=float(upper_raw) if upper_raw else None,
    )


def load_fomc_calendar(path: str | Path | None = None) -> FomcCalendar:
    """Load the calendar from `path`, or the copy shipped in `bot/data` when None."""
    target = Path(path) if path is not None else shipped_path("fomc_decisions.csv")
    return parse_fomc_calendar(target.read_text(encoding="utf-8"), source=str(target))


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
