"""Which scheduled job runs the replay may skip: those on which nothing can happen.

Runs are skipped only after a run whose entry pass changed nothing (no journal line, order,
fill, mark, plan or runtime key written after the risk job), and only while, with the state
that run left:

- the entry job said its decisions cannot change yet (`entry_pass`: a tranche's due time, a
  limit's reprice time, the end of a cool-down, the pivot window; anything that moves with
  the price makes it look again at the next run);
- the signals answer as they did (`RecordedSignals.next_change`: regime view, flushes);
- no bar is handed to the jobs that day (`levels`);
- the risk job would change nothing at that run's prices: `risk_probe` runs the pure risk
  rules (`risk.engine.evaluate`, the equity watermarks) as `risk_check` would, and the run
  is skipped only if they send nothing, keep every mark, leave the block reasons as stored
  and do not raise the equity peak.

A new high inside such a stretch is shown to the risk job at its bar's time, exactly where a
replay running every scheduled run shows it; that run raises the high-water mark and the
equity peak, so the probe takes the marks it left (`RiskProbe.with_marks`), and the stretch
goes on only if the run changed nothing else the entry job reads (`fingerprint`). Where the
pure rules show that raising the marks is all that run would do, the probe makes the same
writes itself (`RiskProbe.catch_up`: last prices, equity watermarks and point, position
marks), which spares the job's round through the venue and the store; the test compares
every store write with the job's.

Anything else (a kill switch tripped, an exit waiting, a panic request, an unsellable
holding) keeps every run. tests/unit/backtest/test_quiet_runs.py replays real data both ways
and compares every fill, order and journal line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from bot.backtest.candles import to_ms
from bot.backtest.world import World
from bot.config.risk_params import risk_params
from bot.execution.book import held_value, open_positions, traded_symbols
from bot.jobs import protective_stops
from bot.state.memory import MemoryStore
from bot.state.plans_repo import MemoryStrategyRepo
from bot.state.runtime_state import (
    DUST_KEY,
    ENTRIES_BLOCKED_KEY,
    ENTRY_ERROR_PREFIX,
    ENTRY_WAIT_PREFIX,
    EQUITY_MARKS_KEY,
    EXIT_WAITS_KEY,
    FILL_CURSOR_PREFIX,
    KILL_SINCE_KEY,
    LAST_PRICES_KEY,
    PANIC_REQUEST_KEY,
    RISK_OFF_KEY,
    STOP_CHECK_KEY,
    UNSELLABLE_KEY,
    RuntimeState,
)
from bot.strategy.plans import PlanStatus
from risk.engine import RiskDecision, evaluate
from risk.limits import EquityMarks, roll_equity_marks
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import Position

# Keys every risk run rewrites with the time or the price; the probe checks what they feed.
_VOLATILE = (LAST_PRICES_KEY, EQUITY_MARKS_KEY)
# The keys the jobs decide on, read one by one from a store that cannot list them.
_DECISION_KEYS = (
    RISK_OFF_KEY,
    ENTRIES_BLOCKED_KEY,
    KILL_SINCE_KEY,
    UNSELLABLE_KEY,
    DUST_KEY,
    EXIT_WAITS_KEY,
    STOP_CHECK_KEY,
    PANIC_REQUEST_KEY,
)
_SYMBOL_PREFIXES = (ENTRY_WAIT_PREFIX, ENTRY_ERROR_PREFIX, FILL_CURSOR_PREFIX)

Fingerprint = tuple[object, ...]
PriceAt = Callable[[str, int], Decimal | None]
_ZERO = Decimal(0)


def fingerprint(world: World) -> Fingerprint:
    """Everything a job run may write that a later decision of the entry job reads: equal
    before and after a run = the run changed nothing.

    Of the position marks only what the entry job reads counts (the cycle and the tiers done,
    `risk.marks.tiers_done`), so a risk run that only raised a high-water mark (a catch-up at
    a new high) leaves the entry job's decisions as they were; the risk job's own reading of
    the marks is the probe's (`RiskProbe`, given the new marks after such a run)."""
    store = world.ctx.store
    orders = world.orders.repo
    state: tuple[object, ...]
    if isinstance(store, MemoryStore):
        journal, order_writes, values = store.writes()
        for key in _VOLATILE:
            values.pop(key, None)
        state = (journal, order_writes, values)
    else:  # the SQLite repositories (the store-equivalence check): read what can be read
        latest = store.recent_journal(limit=1)
        symbols = sorted(world.markets)
        keys = [*_DECISION_KEYS]
        for prefix in _SYMBOL_PREFIXES:
            keys += [prefix + symbol for symbol in symbols]
        state = (
            latest[0].id if latest else 0,
            tuple(orders.all()),
            tuple(store.get_value(key) for key in keys),
        )
    marks = tuple((symbol, _entry_view(m)) for symbol, m in orders.marks().items())
    plans = world.ctx.services.plans
    written: object
    if isinstance(plans, MemoryStrategyRepo):
        written = plans.writes  # counts only writes that changed a plan or a tranche
    else:
        written = (
            len(plans.plans()),
            tuple(
                (plan, plans.tranches(plan.plan_id))
                for plan in plans.plans(statuses=(PlanStatus.ACTIVE, PlanStatus.COMPLETE))
            ),
        )
    ledger = world.ledger
    return (state, marks, written, ledger.fill_count(), ledger.order_count())


def _entry_view(marks: PositionMarks) -> tuple[object, ...]:
    """What the entry job reads of a position's marks: its cycle, break-even, tiers skipped."""
    return (marks.cycle_id, marks.break_even, marks.tiers_skipped)


@dataclass(frozen=True)
class RiskProbe:
    """`probe(now)`: whether `risk_check` at `now` (prices from `price_at`) would change
    nothing, the state being as it is when the probe was built (`risk_probe`)."""

    price_at: PriceAt
    positions: dict[str, Position]
    params: RiskParams
    total: Decimal  # the quote balance, with what open orders hold
    cash: Decimal
    stored_reasons: list[str] | None  # the block reasons stored, as the list they encode
    marks: EquityMarks | None = None
    position_marks: dict[str, PositionMarks] = field(default_factory=dict)

    def with_marks(self, world: World) -> RiskProbe | None:
        """The probe after a run that changed only the marks (the equity watermarks and the
        positions' high-water marks: a catch-up at a new high whose fingerprint is unchanged,
        so no fill, order, block reason or other key moved)."""
        marks = RuntimeState(world.ctx.store).equity_marks()
        if marks is None:
            return None
        return replace(self, marks=marks, position_marks=world.orders.repo.marks())

    def catch_up(self, world: World, now: datetime) -> RiskProbe | None:
        """`risk_check` at a new high inside the stretch, the prices being the venue's tickers
        as the replay set them, when all the job would do is what a catch-up is for: raise
        the high-water marks and the equity watermarks, beside the last prices and the equity
        point it keeps on every run. Then writes just that, through the same store calls, and
        returns the probe with the new marks. None, writing nothing, when the job could do
        more (an exit, a tier skipped, a holding unsellable, the kill switch, a block reason
        moved): the real job must run."""
        marks = self.marks
        positions = self.positions
        # A resting exchange stop would follow the new high (backtests run without them).
        if marks is None or not positions or protective_stops.enabled(world.ctx):
            return None
        prices: dict[str, Decimal] = {}
        for symbol in positions:  # the book's order, which the stored last prices keep
            ticker = world.data.ticker(symbol)
            price = ticker.bid or ticker.last if ticker is not None else None
            if price is not None:
                prices[symbol] = price
        equity = self._equity(prices)
        rolled = roll_equity_marks(marks, equity, now)
        decision = self._decide(prices, equity, rolled, now)
        if self._acts(decision) or self._entry_marks_move(decision):
            return None
        store = world.ctx.store
        state = RuntimeState(store)
        state.set_last_prices(prices, now)
        state.set_equity_marks(rolled, now)
        store.record_equity(now, equity, self.cash)
        world.orders.repo.save_marks(decision.new_marks, now)
        return replace(self, marks=rolled, position_marks=world.orders.repo.marks())

    def __call__(self, now: datetime) -> bool:
        marks = self.marks
        if marks is None:  # nothing held or ordered: only the stored reasons matter
            return self.stored_reasons == []
        prices: dict[str, Decimal] = {}
        when_ms = to_ms(now)
        for symbol in self.positions:
            price = self.price_at(symbol, when_ms)
            if price is not None:
                prices[symbol] = price
        equity = self._equity(prices)
        rolled = roll_equity_marks(marks, equity, now)
        if rolled.equity_peak != marks.equity_peak:
            return False
        decision = self._decide(prices, equity, rolled, now)
        if self._acts(decision):
            return False
        return all(self.position_marks.get(s) == m for s, m in decision.new_marks.items())

    def _equity(self, prices: dict[str, Decimal]) -> Decimal:
        """The book's equity at `prices`, as `value_book` sums it."""
        return self.total + held_value(self.positions, prices)

    def _decide(
        self, prices: dict[str, Decimal], equity: Decimal, rolled: EquityMarks, now: datetime
    ) -> RiskDecision:
        return evaluate(
            self.positions,
            self.position_marks,
            prices,
            rolled.account(equity, self.cash),
            self.params,
            now,
        )

    def _entry_marks_move(self, decision: RiskDecision) -> bool:
        """Whether the new marks change what the entry job reads of them (`fingerprint`'s
        projection): after the job itself such a run would end the stretch."""
        for symbol, new in decision.new_marks.items():
            old = self.position_marks.get(symbol)
            if old is None or _entry_view(old) != _entry_view(new):
                return True
        return False

    def _acts(self, decision: RiskDecision) -> bool:
        """Whether `risk_check` would do more with `decision` than move marks: send, skip a
        tier, find a holding unsellable, trip the kill switch, store other block reasons."""
        return bool(
            decision.actions
            or decision.missing_prices
            or decision.unsellable
            or decision.skipped_tiers
            or decision.kill_switch
            or sorted(decision.block_reasons) != self.stored_reasons
        )


def risk_probe(world: World, price_at: PriceAt) -> RiskProbe | None:
    """The probe of the state as it is; None when some state keeps every run."""
    ctx = world.ctx
    state = RuntimeState(ctx.store)
    if (
        state.panic_requested()
        or state.kill_switch_since() is not None
        or state.exit_waits()
        or state.unsellable()
    ):
        return None
    marks = state.equity_marks()
    orders = ctx.services.orders
    symbols = traded_symbols(orders)
    blocked = state.entries_blocked_text()
    # JSON keeps a list of strings exactly.
    stored_reasons = json.loads(blocked) if blocked else None
    if not symbols:
        if blocked != "[]":
            return None
        return RiskProbe(price_at, {}, risk_params(ctx.settings.risk), _ZERO, _ZERO, [])
    if marks is None:
        return None
    markets = world.markets
    dust, positions = open_positions(orders, symbols, markets)
    params = risk_params(
        ctx.settings.risk,
        risk_off=ctx.store.risk_off(),
        dust_by_symbol=dust,
        markets={s: markets[s] for s in positions if s in markets},
    )
    quote = world.ledger.balances().get(ctx.settings.strategy.quote_currency)
    return RiskProbe(
        price_at,
        positions,
        params,
        quote.total if quote else _ZERO,
        quote.free if quote else _ZERO,
        stored_reasons,
        marks,
        orders.repo.marks(),
    )
