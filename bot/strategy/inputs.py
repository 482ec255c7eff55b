"""What the strategy reads from the outside world: signals and price history, as protocols.

The entry job finds them in `ctx.services.signals` and `ctx.services.price_history`: the live
view of the stored signals (`bot.feeds.live`), the backtest's point-in-time view
(`bot.backtest.fed_signals`), or the in-memory versions below (tests).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from bot.signals.regime_types import Regime


@dataclass(frozen=True)
class RegimeView:
    """The Fed regime as of a moment.

    since: when the current regime began. last_pivot: the last change TOWARD easing
    (tightening -> neutral/easing, neutral -> easing), or None if none is known; changes
    toward tightening are not pivots for the entry planner. source: e.g. "fred", "override".
    periods: (start, regime) of the regime periods known at that moment, oldest first, the
    current one last; empty when the source keeps no history (an override, an old snapshot).
    The entry planner reads the current regime episode from them (`gates.episode_start`).
    """

    regime: Regime
    since: datetime
    last_pivot: datetime | None
    source: str
    periods: tuple[tuple[datetime, Regime], ...] = ()


@dataclass(frozen=True)
class FlushView:
    """A long-liquidation flush relevant to `symbol` (the adapter may map alts to BTC's).

    at: the flush's time; it identifies the flush, so the same flush reported on every job
    run pulls tranches forward once. long_notional: liquidated longs in USD, for the journal.
    """

    at: datetime
    symbol: str
    reason: str
    long_notional: float | None = None


class Signals(Protocol):
    def regime(self, now: datetime) -> RegimeView | None:
        """The regime as of `now`; None when unknown (no plan starts, no tranche is placed)."""
        ...

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        """The latest flush still active at `now` for `symbol`, or None."""
        ...

    def hours_to_next_fomc(self, now: datetime) -> float | None:
        """Hours from `now` to the next FOMC decision; None past the end of the calendar."""
        ...


class PriceHistory(Protocol):
    async def daily_closes(self, symbol: str, until: datetime, days: int) -> list[Decimal]:
        """Closes (quote) of up to `days` complete UTC days before `until`, oldest first.

        The day `until` falls on is excluded: it has no close yet. Fewer closes than asked
        (a new listing, a gap) is allowed; the anti-chase gate then decides with what it has.
        """
        ...


# --- in-memory implementations -----------------------------------------------------------------


@dataclass
class StaticSignals:
    """Signals set by the caller: a regime timeline, flushes and FOMC decision times."""

    regimes: list[tuple[datetime, RegimeView]] = field(default_factory=list)
    flushes: list[FlushView] = field(default_factory=list)
    fomc: list[datetime] = field(default_factory=list)
    flush_active_hours: float = 72.0

    def set_regime(self, at: datetime, view: RegimeView) -> None:
        """From `at` on, `regime()` reports `view` (a timeline, so tests can go back)."""
        self.regimes.append((at, view))
        self.regimes.sort(key=lambda item: item[0])

    def regime(self, now: datetime) -> RegimeView | None:
        known = [view for at, view in self.regimes if at <= now]
        return known[-1] if known else None

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        active = [
            f
            for f in self.flushes
            if f.symbol == symbol
            and f.at <= now
            and (now - f.at).total_seconds() < self.flush_active_hours * 3600
        ]
        return max(active, key=lambda f: f.at) if active else None

    def hours_to_next_fomc(self, now: datetime) -> float | None:
        upcoming = sorted(t for t in self.fomc if t > now)
        return (upcoming[0] - now).total_seconds() / 3600 if upcoming else None


class MemoryPriceHistory:
    """Daily closes per symbol, set by the caller (the constructor's `closes`, or `record`)."""

    def __init__(self, closes: Mapping[str, Iterable[tuple[date, Decimal]]] | None = None) -> None:
        self._days: dict[str, list[date]] = {}
        self._closes: dict[str, dict[date, Decimal]] = {}
        for symbol, rows in (closes or {}).items():
            for day, close in rows:
                self.record(symbol, day, close)

    def record(self, symbol: str, day: date, close: Decimal) -> None:
        book = self._closes.setdefault(symbol, {})
        days = self._days.setdefault(symbol, [])
        if day not in book:
            bisect.insort(days, day)
        book[day] = close

    async def daily_closes(self, symbol: str, until: datetime, days: int) -> list[Decimal]:
        today = until.astimezone(UTC).date()
        if days <= 0:
            return []
        known = self._days.get(symbol, [])
        end = bisect.bisect_left(known, today)
        return [self._closes[symbol][d] for d in known[max(end - days, 0) : end]]
