"""The equity series: the account's value over time, one point per time bucket.

The risk job values the book every minute; the series keeps the last value of each `spacing`
bucket (a candle close: the newest bucket's point is replaced until the bucket ends), at most
`max_points` of them, so it stays small whatever the uptime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

DEFAULT_SPACING = timedelta(minutes=10)
DEFAULT_MAX_POINTS = 1008  # one week at ten-minute spacing


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Equity (quote currency) at `at`; `cash` is the free quote balance when it was known."""

    at: datetime
    equity: Decimal
    cash: Decimal | None = None


def same_bucket(a: datetime, b: datetime, spacing: timedelta) -> bool:
    step = spacing.total_seconds()
    return a.timestamp() // step == b.timestamp() // step


def append_point(
    points: list[EquityPoint],
    point: EquityPoint,
    spacing: timedelta = DEFAULT_SPACING,
    max_points: int = DEFAULT_MAX_POINTS,
) -> list[EquityPoint]:
    """The series with `point` added; a point older than the newest one is ignored."""
    result = list(points)
    add_point(result, point, spacing, max_points)
    return result


def add_point(
    points: list[EquityPoint],
    point: EquityPoint,
    spacing: timedelta = DEFAULT_SPACING,
    max_points: int = DEFAULT_MAX_POINTS,
) -> None:
    """`append_point` on `points` itself: the in-memory store adds a point every risk run, and
    copying its week of points each time cost more than the rest of the write."""
    if points and point.at < points[-1].at:
        return
    if points and same_bucket(points[-1].at, point.at, spacing):
        points[-1] = point
        return
    points.append(point)
    if len(points) > max_points:
        del points[: len(points) - max_points]
