"""What an asset did after a given day, from its daily closes. Pure: no I/O, no clock.

One definition serves both the Fed pivots (`bot.backtest.thesis`) and the every-day baseline
they are compared with (`bot.backtest.thesis_baseline`), so a pivot and an ordinary day are
measured by exactly the same rule:

- Start price of day D: the last daily close dated before D (known at D 00:00 UTC), at most
  five days old.
- Return N months after D: the last close dated before D + N calendar months, over the start
  price, minus 1 (0.25 = +25 %); None until the data holds the close of the day before.
- Best close 6–18 months after D: the highest close dated in [D + 6 months, D + 18 months)
  over the start price, minus 1; None until the data covers that whole window.
"""

from __future__ import annotations

import bisect
import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

HORIZON_MONTHS = (3, 6, 12, 18)
WINDOW_MONTHS = (6, 18)
# A start price must be a close at most this many days old (weekday-only files skip weekends).
_MAX_STALE_DAYS = 5


@dataclass(frozen=True)
class DailyCloses:
    """One asset's daily closes, oldest first (several files may be merged, first wins)."""

    days: tuple[date, ...]
    closes: tuple[float, ...]

    @classmethod
    def merge(cls, series: Sequence[Sequence[tuple[date, float]]]) -> DailyCloses:
        merged: dict[date, float] = {}
        for rows in series:
            for day, close in rows:
                merged.setdefault(day, close)
        ordered = sorted(merged.items())
        return cls(tuple(d for d, _ in ordered), tuple(c for _, c in ordered))

    def close_before(self, day: date) -> tuple[date, float] | None:
        """The last close dated before `day` (known at `day` 00:00 UTC)."""
        i = bisect.bisect_left(self.days, day) - 1
        return (self.days[i], self.closes[i]) if i >= 0 else None

    def window(self, start: date, end: date) -> list[float]:
        """Closes dated in [start, end)."""
        lo, hi = bisect.bisect_left(self.days, start), bisect.bisect_left(self.days, end)
        return list(self.closes[lo:hi])

    def covers(self, end: date) -> bool:
        """Whether the data holds every close dated before `end` (its last day reaches end-1)."""
        return bool(self.days) and self.days[-1] >= end - timedelta(days=1)

    @property
    def last_day(self) -> date | None:
        return self.days[-1] if self.days else None


def add_months(day: date, months: int) -> date:
    """Same day of month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_price(closes: DailyCloses, day: date) -> float | None:
    """The close `day` starts from, or None before the data (or after a long gap)."""
    start = closes.close_before(day)
    if start is None or (day - start[0]).days > _MAX_STALE_DAYS:
        return None
    return start[1]


def return_after(closes: DailyCloses, day: date, start: float, months: int) -> float | None:
    """Simple return from `start` to the last close before `day` + `months` months."""
    target = add_months(day, months)
    at = closes.close_before(target)
    if at is None or not closes.covers(target):
        return None
    return at[1] / start - 1.0


def best_in_window(closes: DailyCloses, day: date, start: float) -> float | None:
    """Highest close 6–18 months after `day` over `start`, minus 1; None if not yet complete."""
    end = add_months(day, WINDOW_MONTHS[1])
    in_window = closes.window(add_months(day, WINDOW_MONTHS[0]), end)
    if not in_window or not closes.covers(end):
        return None
    return max(in_window) / start - 1.0
