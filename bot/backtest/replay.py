"""The replay: the daemon's jobs on a simulated clock over candles, skipping quiet bars.

Schedule. Every `BacktestConfig.schedule` (aligned to the epoch) the scheduled jobs run in
the daemon's order: `risk_check`, then `entry_job`, at the last close known then. Between two
runs, `levels.first_flagged` finds the next bar (per symbol, earliest first) where a resting
order, tier, trailing stop, trailing activation or stop-loss could trigger; only that bar is
handed to the real code. The daemon's `paper_match` and `reconcile` jobs are replaced by the
candle matching below (in-memory venue: nothing to reconcile).

Quiet runs. After a scheduled run whose entry pass changed nothing, the runs before the next
one that may act are skipped (`bot.backtest.quiet_runs`): up to the entry job's own wake-up,
the next change of the signals and the day of the next handed bar, each run is skipped while
the risk rules would change nothing at its prices. New highs on the way are caught up at the
same moments as when every run is made. `skip_quiet_runs=False` runs them all.

Intra-candle order of events (rule B1, pinned by tests/unit/backtest/test_intrabar.py).
A long-only book is hurt most when a bar falls before it rises, so every handed bar is walked
OPEN -> LOW -> HIGH -> CLOSE:

1. At the open, whatever the open already crossed acts first: a resting buy at or above the
   open fills at the open (paper rule C1), a stop at or above it sells at the open, a tier
   at or below it is taken at the open (the bar "opened past the tier").
2. Falling to the low, each level met (resting buy, hard stop, trailing stop) acts at its own
   price, highest first. A stop therefore beats a tier that the same bar reaches later: a
   candle covering both the stop and a tier takes the stop, unless it opened past the tier.
3. Rising to the high, each level met (next tier, trailing activation, resting sell) acts at
   its own price, lowest first. At the high the engine sees the new high-water mark.
4. Falling to the close, the (possibly just raised or armed) trailing and hard stops act.

"Acts" means: the clock is set (each step 1 ms after the previous, so fills keep their order),
the paper engine matches resting orders on the sub-candle from the previous step to this
price (`match_candle`), the market trades at this price (`StaticMarketData`) and the real
`risk_check` job runs; its market exits fill at this price less the paper slippage.

Before a handed bar, if the high-water mark of an open position lags the highs of the
skipped bars, `risk_check` first runs at that highest price, at its bar's time: the trailing
stop ratchets exactly as if every bar had been seen (no level can have been crossed there,
or that bar would have been handed over).
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from bot.backtest.candles import CandleSeries, ms_to_datetime, to_ms
from bot.backtest.fed_signals import RecordedSignals
from bot.backtest.levels import Watch, exit_watch, first_flagged, next_crossing
from bot.backtest.quiet_runs import Fingerprint, RiskProbe, fingerprint, risk_probe
from bot.backtest.world import World
from bot.config.risk_params import risk_params
from bot.jobs.entry.job import entry_pass
from bot.jobs.risk_check import risk_check
from exchanges.base import Side
from risk.marks import PositionMarks
from risk.position import FillSide, Position, PositionFill, PositionReplay

_STEP = timedelta(milliseconds=1)
_MAX_STEPS_PER_LEG = 50
# Quiet runs skipped in one stretch at most: bounds the look-ahead searches.
_MAX_QUIET_RUNS = 64


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass
class ReplayStats:
    bars: int = 0
    handed_bars: int = 0
    scheduled_runs: int = 0
    skipped_runs: int = 0  # scheduled runs on which nothing could happen (`quiet_runs`)
    risk_ticks: int = 0
    catch_up_ticks: int = 0
    quiet_catch_ups: int = 0  # of those, made inside a stretch of skipped runs
    probe_catch_ups: int = 0  # of those, made by the probe for the job (`RiskProbe.catch_up`)
    # Wall time inside the real jobs (for the benchmark's breakdown; never in reports).
    job_seconds: float = 0.0


@dataclass
class _Cursor:
    """One symbol's replay state: next bar, first bar not yet synced to the high-water mark."""

    series: CandleSeries
    lo: int
    hi: int
    next_bar: int
    synced: int
    watch: Watch | None = None
    # Open and close times as Python ints: the replay searches them thousands of times per
    # trial, where `bisect` on a list costs a fraction of a numpy call (same answers: the
    # arrays are sorted, `bisect_left`/`bisect_right` are searchsorted's "left"/"right").
    opens: list[int] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)
    decimal_closes: dict[int, Decimal] = field(default_factory=dict)  # bar index -> close

    def bars_before(self, when_ms: int) -> int:
        """The index after the last replayed bar opening before `when_ms`."""
        return min(self.hi, bisect_left(self.opens, when_ms))


@dataclass
class Replay:
    world: World
    series: list[CandleSeries]
    start: datetime
    end: datetime
    every: timedelta
    on_progress: Callable[[int], None] | None = None
    hand_every_bar: bool = False
    skip_quiet_runs: bool = True
    stats: ReplayStats = field(default_factory=ReplayStats)

    def __post_init__(self) -> None:
        self.cursors: dict[str, _Cursor] = {}
        start_ms, end_ms = to_ms(self.start), to_ms(self.end)
        for s in self.series:
            lo = int(np.searchsorted(s.ts, start_ms, "left"))
            hi = int(np.searchsorted(s.end_ts, end_ms, "right"))
            self.cursors[s.symbol] = _Cursor(
                s, lo, max(lo, hi), lo, lo, opens=s.ts.tolist(), closes=s.end_ts.tolist()
            )
        self._last = self.start - _STEP
        settings = self.world.ctx.settings.risk
        self._trailing = settings.trailing_stop_pct is not None
        self._dust = {
            symbol: market.min_amount or Decimal(0) for symbol, market in self.world.markets.items()
        }
        self._params = {
            symbol: risk_params(
                settings,
                dust_by_symbol={symbol: dust},
                markets={symbol: self.world.markets[symbol]},
            )
            for symbol, dust in self._dust.items()
        }
        self._marks: dict[str, PositionMarks] | None = None
        # Each symbol's levels until something that may move them runs: a job (marks, orders,
        # fills) or the paper matching (fills, resting orders); a handed bar asks at every leg.
        self._watches: dict[str, Watch] = {}
        self._fills_seen = -1
        self._position_cache: dict[str, Position] = {}
        self._venue_fills: dict[str, list[PositionFill]] = {}
        self._replays = {
            symbol: PositionReplay(symbol, dust) for symbol, dust in self._dust.items()
        }
        # Scheduled runs before this time (ms) are skipped while `_still_quiet` finds them so,
        # judged against the state the stretch began with and the risk probe of the latest.
        self._quiet_until = -1
        self._quiet_state: Fingerprint = ()
        self._probe: RiskProbe | None = None

    # --- time and prices ---------------------------------------------------------------------

    def _at(self, when: datetime) -> datetime:
        """Move the clock to `when`, or 1 ms after the last step if that is later."""
        when = max(when, self._last + _STEP)
        self._last = when
        self.world.clock.set(when)
        return when

    def _known_price(self, cursor: _Cursor, when_ms: int) -> Decimal | None:
        """The symbol's price at `when_ms` as the engine has seen its path: the close of the
        last bar closed by then or, when its bar at that time was already walked (bars of
        several symbols open at the same instant and are walked one after the other), the close
        of that walked bar. Never an earlier price: the engine's marks for this symbol already
        include everything its walked bars did, and a stop ratcheted by a bar's high must not
        be tested against the close before that bar. Inside the first bar, its open; before
        the symbol's first bar, None (not listed yet: no ticker, so no order)."""
        return self._price_at(cursor, when_ms, cursor.next_bar)

    def _price_at(self, cursor: _Cursor, when_ms: int, next_bar: int) -> Decimal | None:
        """`_known_price` with the bars before `next_bar` walked."""
        i = bisect_right(cursor.closes, when_ms) - 1
        walked = min(next_bar, cursor.hi) - 1
        if walked > i and cursor.opens[walked] <= when_ms:
            i = walked
        if i >= 0:
            price = cursor.decimal_closes.get(i)
            if price is None:  # each close is asked for by several runs and probes
                price = cursor.decimal_closes[i] = _dec(cursor.series.close[i])
            return price
        s = cursor.series
        return _dec(s.open[0]) if len(s) and when_ms >= cursor.opens[0] else None

    def _set_known_prices(self, when: datetime, skip: str | None = None) -> None:
        when_ms = to_ms(when)
        for symbol, cursor in self.cursors.items():
            if symbol != skip:
                price = self._known_price(cursor, when_ms)
                if price is not None:
                    self.world.set_price(symbol, price, when)

    # --- levels ------------------------------------------------------------------------------

    def _watch(self, symbol: str) -> Watch:
        """Levels from the venue's fills (the truth, even before the order manager synced
        them), the risk engine's stored marks and the resting orders."""
        watch = self._watches.get(symbol)
        if watch is not None:
            return watch
        if self._marks is None:
            self._marks = self.world.orders.repo.marks()
        resting = [p.order for p in self.world.ledger.open_orders(symbol)]
        position = self._positions().get(symbol)
        watch = exit_watch(position, self._marks.get(symbol), self._params[symbol], resting)
        self._watches[symbol] = watch
        return watch

    def _positions(self) -> dict[str, Position]:
        """Positions from the venue's fills; only symbols with new fills are rebuilt (a fill's
        tier and kind come from its order record, written before the order went out)."""
        ledger = self.world.ledger
        if ledger.fill_count() != self._fills_seen:
            repo = self.world.orders.repo
            changed = set()
            for fill in ledger.fills()[max(self._fills_seen, 0) :]:
                record = repo.get(fill.client_order_id) if fill.client_order_id else None
                self._venue_fills.setdefault(fill.symbol, []).append(
                    PositionFill(
                        fill_id=fill.trade_id,
                        side=FillSide(fill.side.value),
                        amount=fill.amount,
                        price=fill.price,
                        fee=fill.fee,
                        timestamp=fill.timestamp,
                        tier=record.tier if record and fill.side is Side.SELL else None,
                        reason=record.kind if record else None,
                    )
                )
                changed.add(fill.symbol)
            for symbol in sorted(changed):
                self._position_cache[symbol] = self._replays[symbol].position(
                    self._venue_fills[symbol]
                )
            self._fills_seen = ledger.fill_count()
        return self._position_cache

    def _forget_marks(self) -> None:
        """The marks were saved anew: the levels watched are read again."""
        self._marks = None
        self._watches.clear()

    async def _risk_check(self, now: datetime) -> None:
        self._forget_marks()  # the job persists new marks
        began = time.perf_counter()
        await risk_check(self.world.ctx, now)
        self.stats.job_seconds += time.perf_counter() - began

    def _refresh_watches(self) -> None:
        for symbol, cursor in self.cursors.items():
            cursor.watch = self._watch(symbol)

    def _search_watch(self, cursor: _Cursor) -> Watch:
        """The watch with the high-water mark raised by bars skipped since the last sync."""
        watch = cursor.watch or Watch()
        if watch.trail_factor is None or cursor.synced >= cursor.next_bar:
            return watch
        skipped = float(cursor.series.high[cursor.synced : cursor.next_bar].max())
        if watch.high_water is None or skipped > float(watch.high_water):
            return Watch(
                watch.below, watch.above, watch.trail_factor, watch.trail_stop, _dec(skipped)
            )
        return watch

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> ReplayStats:
        await self.world.venue.load_markets()
        every_ms = int(self.every / _STEP)
        start_ms, end_ms = to_ms(self.start), to_ms(self.end)
        t_ms = -(-start_ms // every_ms) * every_ms
        if t_ms > start_ms:  # bars before the first scheduled run: nothing to act on yet
            await self._segment(t_ms)
        while t_ms < end_ms:
            quiet = t_ms < self._quiet_until and await self._still_quiet(t_ms)
            if quiet:
                self.stats.skipped_runs += 1
            else:
                self._quiet_until = -1
                await self._scheduled(ms_to_datetime(t_ms))
            t_ms += every_ms
            if quiet and t_ms <= self._quiet_until:
                # The stretch ends before the first bar the jobs must see (`_quiet_end`,
                # whose search already followed the trailing stop up every high): nothing
                # to search for in these bars.
                self._pass_bars(min(t_ms, end_ms))
            else:
                await self._segment(min(t_ms, end_ms))
        return self.stats

    def _advance(self, cursor: _Cursor, index: int) -> None:
        """Bars before `index` are done (handed over or found quiet)."""
        if index > cursor.next_bar:
            self.stats.bars += index - cursor.next_bar
            if self.on_progress is not None:
                self.on_progress(index - cursor.next_bar)
            cursor.next_bar = index

    def _mark_synced(self) -> None:
        """State changed: later catch-ups start from here, under the new state."""
        for cursor in self.cursors.values():
            cursor.synced = cursor.next_bar

    async def _scheduled(self, when: datetime) -> None:
        await self._sync_highs(to_ms(when))
        now = self._at(when)
        self._set_known_prices(now)
        await self._risk_check(now)
        # The risk side of later runs is probed from the state as it is now (`_quiet_end`);
        # the entry job's wake-up holds only if its own pass changed nothing.
        skipping = self.skip_quiet_runs and not self.hand_every_bar
        before = fingerprint(self.world) if skipping else None
        began = time.perf_counter()
        wake = await entry_pass(self.world.ctx, now)
        self._watches.clear()
        self.stats.job_seconds += time.perf_counter() - began
        self.stats.scheduled_runs += 1
        self._mark_synced()
        self._refresh_watches()
        if skipping:
            after = fingerprint(self.world)
            if before == after:
                self._quiet_until = self._quiet_end(now, wake)
                self._quiet_state = after
                self._probe = risk_probe(self.world, self._future_price)

    # --- quiet runs (see bot.backtest.quiet_runs) --------------------------------------------

    def _quiet_end(self, now: datetime, wake: datetime | None) -> int:
        """After a run at `now` that changed nothing: the time (ms) before which the entry
        job, the signals and the bars leave every run as quiet as the risk job finds it
        (`_still_quiet`), or -1 when the next run may act."""
        signals = self.world.ctx.services.signals
        if not isinstance(signals, RecordedSignals):
            return -1
        every_ms = int(self.every / _STEP)
        now_ms = to_ms(now)
        end = now_ms + every_ms * _MAX_QUIET_RUNS
        if wake is not None:
            end = min(end, to_ms(wake))
        end = min(end, to_ms(signals.next_change(now)))
        for cursor in self.cursors.values():
            end = min(end, self._next_event(cursor, end, every_ms))
        return end if end > now_ms + every_ms else -1

    async def _still_quiet(self, t_ms: int) -> bool:
        """Whether the scheduled run at `t_ms`, inside a quiet stretch, would change nothing.

        A new high since the last run is shown to the risk job first, at its bar's time, as
        every run shows it (`_sync_highs`); that run raises the high-water mark and the equity
        peak, so the risk probe takes the marks it left. Anything else it changed
        (an order, a journal line, a block reason) ends the stretch."""
        caught_up = self.stats.catch_up_ticks
        ran = await self._sync_highs(t_ms, quiet=True)
        if self.stats.catch_up_ticks > caught_up:
            self.stats.quiet_catch_ups += 1
            self._mark_synced()
            self._refresh_watches()
        if ran:
            if fingerprint(self.world) != self._quiet_state or self._probe is None:
                return False
            self._probe = self._probe.with_marks(self.world)
        return self._probe is not None and self._probe(ms_to_datetime(t_ms))

    def _next_event(self, cursor: _Cursor, end_ms: int, every_ms: int) -> int:
        """The run before the first bar (opening before `end_ms`) handed to the jobs, else
        `end_ms`. New highs do not end a stretch: `_still_quiet` catches them up."""
        s = cursor.series
        lo = cursor.next_bar
        hi = cursor.bars_before(end_ms)
        if hi <= lo:
            return end_ms
        index = first_flagged(s.high, s.low, lo, hi, self._search_watch(cursor))
        if index is None:
            return end_ms
        return min(end_ms, int(s.ts[index]) // every_ms * every_ms)

    def _future_price(self, symbol: str, when_ms: int) -> Decimal | None:
        """The price a run at `when_ms` would see (`_known_price` once the bars opening before
        then are walked)."""
        cursor = self.cursors[symbol]
        walked = max(cursor.next_bar, cursor.bars_before(when_ms))
        return self._price_at(cursor, when_ms, walked)

    def _pass_bars(self, until_ms: int) -> None:
        """Bars opening before `until_ms` are done."""
        for cursor in self.cursors.values():
            self._advance(cursor, cursor.bars_before(until_ms))

    async def _segment(self, until_ms: int) -> None:
        """Bars opening before `until_ms`: hand over the flagged ones, skip the rest."""
        bounds = {symbol: c.bars_before(until_ms) for symbol, c in self.cursors.items()}
        while True:
            best: tuple[int, str, int] | None = None
            for symbol, cursor in self.cursors.items():
                hi = bounds[symbol]
                if cursor.next_bar >= hi:
                    continue
                s = cursor.series
                if self.hand_every_bar:
                    index: int | None = cursor.next_bar
                else:
                    index = first_flagged(
                        s.high, s.low, cursor.next_bar, hi, self._search_watch(cursor)
                    )
                if index is not None and (best is None or int(s.ts[index]) < best[0]):
                    best = (int(s.ts[index]), symbol, index)
            if best is None:
                break
            bar_ms, symbol, index = best
            await self._sync_highs(bar_ms)
            await self._hand_over(self.cursors[symbol], index)
            self._mark_synced()
            self._refresh_watches()
        self._pass_bars(until_ms)

    # --- one handed bar ----------------------------------------------------------------------

    async def _hand_over(self, cursor: _Cursor, index: int) -> None:
        s = cursor.series
        symbol = s.symbol
        self.stats.handed_bars += 1
        bar_time = s.time_of(index)
        o, h, low, c = (_dec(x[index]) for x in (s.open, s.high, s.low, s.close))
        watch = self._watch(symbol)
        trail = watch.trail_level(watch.high_water or o)
        # A gap above the high-water mark raises an armed trailing stop at the open, before
        # the path falls to the low (the stop must be judged from that higher mark).
        gapped_up = watch.trail_factor is not None and (
            watch.high_water is None or o > watch.high_water
        )
        opened_past = (
            gapped_up
            or any(level >= o for level in watch.below)
            or any(level <= o for level in watch.above)
            or (trail is not None and trail >= o)
        )
        if opened_past:
            await self._tick(symbol, o, o, bar_time)
        for leg, (start, end) in enumerate(((o, low), (low, h), (h, c))):
            current = start
            for _ in range(_MAX_STEPS_PER_LEG):
                level = next_crossing(self._watch(symbol), current, end)
                if level is None:
                    break
                await self._tick(symbol, current, level, bar_time)
                current = level
            if leg == 1 and self._trailing:
                top = self._watch(symbol)
                if top.high_water is not None and h > top.high_water:
                    await self._tick(symbol, current, h, bar_time)
        now = self._at(bar_time)
        self.world.set_price(symbol, c, now)
        self._advance(cursor, index + 1)

    async def _tick(self, symbol: str, start: Decimal, price: Decimal, bar_time: datetime) -> None:
        now = self._at(bar_time)
        high, low = max(start, price), min(start, price)
        self.world.venue.match_candle(symbol, start, high, low, price, now)
        self._watches.clear()
        self._set_known_prices(now, skip=symbol)
        self.world.set_price(symbol, price, now)
        await self._risk_check(now)
        self.stats.risk_ticks += 1

    async def _sync_highs(self, until_ms: int, quiet: bool = False) -> bool:
        """Bring every open position's high-water mark up to the bars opening before
        `until_ms` (all found quiet under the current state), then mark them done. True if
        the risk job ran for it. `quiet`: inside a quiet stretch, where the probe may stand in
        for the job (`RiskProbe.catch_up`) until the job itself has run."""
        ran = False
        for cursor in self.cursors.values():
            index = max(cursor.next_bar, cursor.bars_before(until_ms))
            if self._trailing and cursor.synced < index:
                ran = await self._catch_up(cursor, index, quiet and not ran) or ran
            self._advance(cursor, index)
        return ran

    async def _catch_up(self, cursor: _Cursor, index: int, quiet: bool = False) -> bool:
        """Show the risk job the highest price of bars [synced, index), at its bar's time,
        if it tops the high-water mark; True if the job ran (`quiet`: not if the probe found
        that all it would do is raise the marks, and did that)."""
        s = cursor.series
        watch = cursor.watch or self._watch(s.symbol)
        if watch.high_water is None:
            return False
        j = cursor.synced
        if index - j > 1:  # most runs sync one bar: no numpy call for it
            j += int(np.argmax(s.high[j:index]))
        high = float(s.high[j])
        # Rounding to the nearest double is monotonic, so a high below the mark as doubles is
        # below it as Decimals too; only the rest needs the exact comparison.
        if high < float(watch.high_water) or _dec(high) <= watch.high_water:
            cursor.synced = index  # nothing above the mark: these bars are synced as they are
            return False
        top = _dec(high)
        now = self._at(s.time_of(j))
        self._set_known_prices(now, skip=s.symbol)
        self.world.set_price(s.symbol, top, now)
        self.stats.catch_up_ticks += 1
        probe = self._probe.catch_up(self.world, now) if quiet and self._probe is not None else None
        if probe is not None:
            self._probe = probe
            self.stats.probe_catch_ups += 1
            self._forget_marks()
            return False
        await self._risk_check(now)
        return True
