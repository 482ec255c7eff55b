"""The strategy's `Signals` over recorded data: point-in-time Fed regime, FOMC calendar, flushes.

Point in time: the regime on day D is what `bot.signals.regime` computes from the inputs as
they were known on D (`known_at`: publication lag, announcements once public, FOMC decisions
published before D began), as `classify` does live. Computing that history afresh for every
simulated day costs ~10 ms a day, so the backtest computes the hindsight history once and
uses it on days far from any of its period boundaries: the known-at history differs from
hindsight only by lagging it (an FOMC decision is seen the day after; a WALCL or DFF
observation `publication_lag_days` later; a DFF-implied rate change once its confirming
observations are public), never by anticipating it. Within `SETTLE_DAYS` of a hindsight
boundary the exact known-at computation runs. A test pins the equivalence.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.signals.calendar import FomcCalendar
from bot.signals.flush import Flush, FlushParams, scan_flushes
from bot.signals.liquidations import LiquidationBar
from bot.signals.regime import known_at, pivots, regime_at, regime_history
from bot.signals.regime_types import (
    Pivot,
    Regime,
    RegimeInputs,
    RegimeParams,
    RegimePeriod,
    toward_easing,
)
from bot.strategy.inputs import FlushView, RegimeView

# Longer than any lag of the known-at view behind hindsight (1 day of publication lag, two
# DFF business-day observations around a weekend, a weekly WALCL print).
SETTLE_DAYS = 14
# How far ahead `next_change` looks for a change of the regime view before answering "not
# before then" (the replay wakes the entry job then at the latest).
CHANGE_HORIZON_DAYS = 120


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _toward_easing(pivot: Pivot) -> bool:
    return toward_easing(pivot.from_regime, pivot.to_regime)


def _view(
    period: RegimePeriod, found: Sequence[Pivot], day: date, history: Sequence[RegimePeriod]
) -> RegimeView:
    easing = [p for p in found if p.date <= day and _toward_easing(p)]
    return RegimeView(
        regime=period.regime,
        since=_midnight(period.start),
        last_pivot=_midnight(easing[-1].date) if easing else None,
        source="data",
        periods=tuple((_midnight(p.start), p.regime) for p in history if p.start <= period.start),
    )


class PointInTimeRegime:
    """`regime(day)`: the Fed regime as known on `day`, cached per day."""

    def __init__(self, inputs: RegimeInputs, params: RegimeParams | None = None) -> None:
        self.inputs = inputs
        self.params = params or RegimeParams()
        self.hindsight = regime_history(inputs, self.params)
        self._pivots = pivots(self.hindsight)
        self._starts = [p.start for p in self.hindsight]
        self._cache: dict[date, RegimeView | None] = {}
        self._next_change: dict[date, date] = {}
        self.exact_days = 0

    def exact(self, day: date) -> RegimeView | None:
        """The known-at computation, as `classify` does it (no override)."""
        history = regime_history(known_at(self.inputs, day, self.params), self.params, day)
        period = regime_at(history, day)
        return None if period is None else _view(period, pivots(history), day, history)

    def _near_boundary(self, day: date) -> bool:
        lo = bisect.bisect_left(self._starts, day - timedelta(days=SETTLE_DAYS))
        return lo < len(self._starts) and self._starts[lo] <= day + timedelta(days=1)

    def view(self, day: date) -> RegimeView | None:
        if day in self._cache:
            return self._cache[day]
        if not self.hindsight or day < self.hindsight[0].start or self._near_boundary(day):
            self.exact_days += 1
            result = self.exact(day)
        else:
            period = regime_at(self.hindsight, day)
            result = None if period is None else _view(period, self._pivots, day, self.hindsight)
        self._cache[day] = result
        return result

    def next_change(self, day: date, horizon: int = CHANGE_HORIZON_DAYS) -> date:
        """The first day after `day` whose view differs from `day`'s, or at most `horizon`
        days on (then a bound: no change before it). Days found on the way share the answer
        (for them too it is a change or an early bound, never late)."""
        found = self._next_change.get(day)
        if found is not None:
            return found
        current = self.view(day)
        same = [day]
        later = day + timedelta(days=1)
        while later < day + timedelta(days=horizon) and self.view(later) == current:
            same.append(later)
            later += timedelta(days=1)
        for seen in same:
            self._next_change[seen] = later
        return later


@dataclass
class RecordedSignals:
    """`bot.strategy.inputs.Signals` for backtests, as `bot.feeds.live.LiveSignals` answers
    live: the regime as known that day (or the configured override), the FOMC calendar, and
    market-wide liquidation flushes (all recorded symbols together, one flush for every plan),
    each active for `flush_params.cooldown` after the window that fired it (only known then).
    """

    regimes: PointInTimeRegime
    calendar: FomcCalendar | None
    flushes: Sequence[Flush]
    flush_params: FlushParams
    override: Regime | None = None

    def regime(self, now: datetime) -> RegimeView | None:
        view = self.regimes.view(now.astimezone(UTC).date())
        if view is None or self.override is None:
            return view
        return RegimeView(self.override, view.since, view.last_pivot, "override")

    def __post_init__(self) -> None:
        self._flush_times = [f.time for f in self.flushes]

    def hours_to_next_fomc(self, now: datetime) -> float | None:
        return None if self.calendar is None else self.calendar.hours_until_next_decision(now)

    def next_change(self, now: datetime) -> datetime:
        """The earliest time after `now` at which `regime` or `flush` may answer differently
        than at `now` (the FOMC countdown is the entry job's own: it wakes for it)."""
        day = now.astimezone(UTC).date()
        change = _midnight(self.regimes.next_change(day))
        i = bisect.bisect_right(self._flush_times, now)
        if i < len(self._flush_times):
            change = min(change, self._flush_times[i])
        if i > 0 and self._flush_times[i - 1] + self.flush_params.cooldown > now:
            change = min(change, self._flush_times[i - 1] + self.flush_params.cooldown)
        return change

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        i = bisect.bisect_right(self._flush_times, now) - 1
        if i < 0:
            return None
        latest = self.flushes[i]
        if now - latest.time >= self.flush_params.cooldown:
            return None
        return FlushView(latest.time, symbol, latest.reason, latest.long_notional)


def recorded_signals(
    inputs: RegimeInputs,
    liquidations: Sequence[LiquidationBar] = (),
    calendar: FomcCalendar | None = None,
    regime_params: RegimeParams | None = None,
    flush_params: FlushParams | None = None,
    override: Regime | None = None,
) -> RecordedSignals:
    """Signals from the Fed inputs, recorded liquidation bars (any symbols) and the calendar;
    the classifier reads the calendar's decisions unless `inputs` carry their own."""
    flush_params = flush_params or FlushParams()
    if calendar is not None and not inputs.decisions:
        inputs = inputs.with_decisions(calendar.decisions)
    return RecordedSignals(
        PointInTimeRegime(inputs, regime_params),
        calendar,
        tuple(scan_flushes(liquidations, flush_params)),
        flush_params,
        override,
    )
