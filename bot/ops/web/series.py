"""The equity series behind the status page chart and `qtbot_equity`: small, in the kv table.

The risk job values the book every minute; the series keeps the last value of each `spacing`
bucket (a candle close; the newest bucket's point is replaced until the bucket ends), at most
`max_points` of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import TypeVar

from bot.state.store import Store

SERIES_KEY = "equity.series"
CURRENT_KEY = "equity.current"
DEFAULT_SPACING = timedelta(minutes=10)
DEFAULT_MAX_POINTS = 1008  # one week at ten-minute spacing
P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class EquityPoint:
    at: datetime
    equity: Decimal


def append_point(
    points: list[P],
    point: P,
    spacing: timedelta = DEFAULT_SPACING,
    max_points: int = DEFAULT_MAX_POINTS,
    at: Callable[[P], datetime] = attrgetter("at"),
) -> list[P]:
    """The series with `point` added (a point older than the last one is ignored).

    `at` reads a point's time: the stored series is appended to as raw JSON pairs, so a job
    run parses one timestamp, not a thousand."""
    if not points:
        return [point]
    last, new = at(points[-1]), at(point)
    if new < last:
        return list(points)
    step = spacing.total_seconds()
    if new.timestamp() // step == last.timestamp() // step:
        updated = [*points[:-1], point]
    else:
        updated = [*points, point]
    return updated[-max_points:]


def _load(text: str | None) -> list[EquityPoint]:
    if not text:
        return []
    return [
        EquityPoint(datetime.fromisoformat(at), Decimal(value)) for at, value in json.loads(text)
    ]


def load_series(store: Store) -> list[EquityPoint]:
    return _load(store.get_value(SERIES_KEY))


def current_equity(store: Store) -> tuple[datetime, Decimal, Decimal | None] | None:
    """(at, equity, cash) as last recorded, or None."""
    text = store.get_value(CURRENT_KEY)
    if not text:
        return None
    data = json.loads(text)
    cash = data.get("cash")
    return (
        datetime.fromisoformat(data["at"]),
        Decimal(data["equity"]),
        None if cash is None else Decimal(cash),
    )


def record_equity(
    store: Store, now: datetime, equity: Decimal, cash: Decimal | None = None
) -> None:
    """Record the account value (quote currency) at `now`; call it after valuing the book."""
    current = {"at": now.isoformat(), "equity": str(equity)}
    if cash is not None:
        current["cash"] = str(cash)
    store.set_value(CURRENT_KEY, json.dumps(current), now)
    text = store.get_value(SERIES_KEY)
    stored: list[list[str]] = json.loads(text) if text else []
    points = append_point(stored, [now.isoformat(), str(equity)], at=_raw_time)
    store.set_value(SERIES_KEY, json.dumps(points), now)


def _raw_time(pair: list[str]) -> datetime:
    return datetime.fromisoformat(pair[0])
