"""Liquidation events and their rolling aggregates (1 h / 4 h / 24 h, long vs short). Pure.

A liquidated LONG is closed by a SELL order and a liquidated SHORT by a BUY order; venues
disagree on which of the two their `side` field reports, so events carry the side of the
liquidated position (`liquidated_side`) and the payload parsers translate (see
`liquidation_payloads.py`). Notional is in the quote/settle currency (USDT, USDC or USD),
treated as USD; amounts are Decimal because they come from exchange strings and serve as
exact de-duplication keys.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

DEFAULT_WINDOWS = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=24))
ZERO = Decimal(0)


class LiquidatedSide(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True)
class LiquidationEvent:
    """One public liquidation. `time` is UTC; `quote_notional` in quote currency (~USD)."""

    time: datetime
    exchange: str
    symbol: str
    liquidated_side: LiquidatedSide
    quote_notional: Decimal
    event_id: str | None = None
    price: Decimal | None = None
    amount: Decimal | None = None  # base-currency quantity when known, else contracts

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("LiquidationEvent.time must be timezone-aware")
        if self.quote_notional < 0:
            raise ValueError("quote_notional must be >= 0")

    @property
    def dedup_key(self) -> tuple[object, ...]:
        """The exchange's event id when it has one, else (time, symbol, side, price, qty)."""
        if self.event_id:
            return (self.exchange, "id", self.event_id)
        return (
            self.exchange,
            self.time,
            self.symbol,
            self.liquidated_side,
            self.price,
            self.amount,
        )


@dataclass(frozen=True)
class WindowTotals:
    """Liquidations in the window (end - window, end]: notional in quote currency."""

    window: timedelta
    long_notional: Decimal
    short_notional: Decimal
    long_count: int
    short_count: int

    @property
    def total_notional(self) -> Decimal:
        return self.long_notional + self.short_notional


@dataclass(frozen=True)
class LiquidationBar:
    """Aggregated liquidations in [start, start + duration), USD (floats: analytics only)."""

    start: datetime
    duration: timedelta
    symbol: str
    long_usd: float
    short_usd: float

    @property
    def end(self) -> datetime:
        return self.start + self.duration


class _Sums:
    __slots__ = ("long", "long_count", "short", "short_count")

    def __init__(self) -> None:
        self.long = ZERO
        self.short = ZERO
        self.long_count = 0
        self.short_count = 0

    def add(self, event: LiquidationEvent, sign: int) -> None:
        if event.liquidated_side is LiquidatedSide.LONG:
            self.long += sign * event.quote_notional
            self.long_count += sign
        else:
            self.short += sign * event.quote_notional
            self.short_count += sign

    def totals(self, window: timedelta) -> WindowTotals:
        return WindowTotals(window, self.long, self.short, self.long_count, self.short_count)


class _Window:
    """Events of one window in a min-heap by time, so late arrivals are evicted exactly."""

    def __init__(self, length: timedelta) -> None:
        self.length = length
        self.heap: list[tuple[datetime, int, LiquidationEvent]] = []
        self.all = _Sums()
        self.by_symbol: dict[str, _Sums] = {}

    def add(self, event: LiquidationEvent, seq: int) -> None:
        heapq.heappush(self.heap, (event.time, seq, event))
        self.all.add(event, 1)
        self.by_symbol.setdefault(event.symbol, _Sums()).add(event, 1)

    def evict(self, now: datetime) -> None:
        cutoff = now - self.length
        while self.heap and self.heap[0][0] <= cutoff:
            _, _, event = heapq.heappop(self.heap)
            self.all.add(event, -1)
            sums = self.by_symbol[event.symbol]
            sums.add(event, -1)
            if sums.long_count == 0 and sums.short_count == 0:
                del self.by_symbol[event.symbol]


class LiquidationWindows:
    """Rolling long/short notional over several windows, with duplicate suppression.

    `add` accepts events in any order; `evict(now)` drops what fell out of each window
    ((now - window, now] is kept). Duplicates (same `dedup_key`) are remembered for the
    longest window and rejected. No clock is read: the caller passes `now`.
    """

    def __init__(self, windows: Sequence[timedelta] = DEFAULT_WINDOWS) -> None:
        if not windows or any(w <= timedelta(0) for w in windows):
            raise ValueError("windows must be positive durations")
        self._windows = {w: _Window(w) for w in sorted(set(windows))}
        self._longest = max(self._windows)
        self._seen: dict[tuple[object, ...], datetime] = {}
        self._seen_heap: list[tuple[datetime, int, tuple[object, ...]]] = []
        self._seq = itertools.count()
        self._latest: datetime | None = None

    @property
    def windows(self) -> tuple[timedelta, ...]:
        return tuple(self._windows)

    @property
    def latest_event_time(self) -> datetime | None:
        return self._latest

    def add(self, event: LiquidationEvent) -> bool:
        """Add `event`; False if it is a duplicate of one still remembered."""
        key = event.dedup_key
        if key in self._seen:
            return False
        seq = next(self._seq)
        self._seen[key] = event.time
        heapq.heappush(self._seen_heap, (event.time, seq, key))
        for window in self._windows.values():
            window.add(event, seq)
        if self._latest is None or event.time > self._latest:
            self._latest = event.time
        return True

    def add_many(self, events: Iterable[LiquidationEvent]) -> list[LiquidationEvent]:
        """Add events; return those that were new (not duplicates)."""
        return [event for event in events if self.add(event)]

    def evict(self, now: datetime) -> None:
        for window in self._windows.values():
            window.evict(now)
        cutoff = now - self._longest
        while self._seen_heap and self._seen_heap[0][0] <= cutoff:
            _, _, key = heapq.heappop(self._seen_heap)
            self._seen.pop(key, None)

    def totals(self, now: datetime, symbol: str | None = None) -> dict[timedelta, WindowTotals]:
        """Totals per window at `now` (evicts first), for one symbol or all of them."""
        self.evict(now)
        result: dict[timedelta, WindowTotals] = {}
        for length, window in self._windows.items():
            sums = window.all if symbol is None else window.by_symbol.get(symbol, _Sums())
            result[length] = sums.totals(length)
        return result


def bucket_events(
    events: Iterable[LiquidationEvent],
    duration: timedelta,
    symbol: str | None = None,
    origin: datetime = datetime(1970, 1, 1, tzinfo=UTC),
) -> list[LiquidationBar]:
    """Sum events into fixed buckets [origin + k*duration, ...); only non-empty buckets.

    With `symbol` None every symbol goes into one bar labelled "*"; duplicates should be
    removed before (see `LiquidationWindows.add_many`).
    """
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    sums: dict[datetime, list[Decimal]] = {}
    for event in events:
        if symbol is not None and event.symbol != symbol:
            continue
        index = (event.time - origin) // duration
        start = origin + index * duration
        pair = sums.setdefault(start, [ZERO, ZERO])
        pair[0 if event.liquidated_side is LiquidatedSide.LONG else 1] += event.quote_notional
    label = symbol or "*"
    return [
        LiquidationBar(start, duration, label, float(pair[0]), float(pair[1]))
        for start, pair in sorted(sums.items())
    ]
