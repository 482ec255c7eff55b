"""Which scheduled job runs the replay may skip: those on which nothing can happen.

Runs are skipped only after a run whose entry pass changed nothing (no journal line, order,
fill, mark, plan or runtime key written after the risk job), and only while, with the state
that run left:

- the entry job said its decisions cannot change yet (`entry_pass`: a tranche's due time, a
  limit's reprice time, the end of a cool-down, the pivot window; anything that moves with
  the price makes it look again at the next run);
- the signals answer as they did (`RecordedSignals.next_change`: regime view, flushes);
- no bar is handed to the jobs that day and no new high is caught up (`levels`);
- the risk job would change nothing at that run's prices: `risk_probe` runs the pure risk
  rules (`risk.engine.evaluate`, the equity watermarks) as `risk_check` would, and the run
  is skipped only if they send nothing, keep every mark, leave the block reasons as stored
  and do not raise the equity peak.

Anything else (a kill switch tripped, an exit waiting, a panic request, an unsellable
holding) keeps every run. tests/unit/backtest/test_quiet_runs.py replays real data both ways
and compares every fill, order and journal line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from bot.backtest.candles import to_ms
from bot.backtest.world import World
from bot.config.risk_params import risk_params
from bot.state.memory import MemoryStore
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
from risk.engine import evaluate
from risk.limits import roll_equity_marks

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


def fingerprint(world: World) -> Fingerprint:
    """Everything a job run may write that a later decision reads: equal before and after a
    run = the run changed nothing."""
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
            orders.marks(),
            tuple(store.get_value(key) for key in keys),
        )
    plans = world.ctx.services.plans
    running = tuple(
        (plan, plans.tranches(plan.plan_id))
        for plan in plans.plans(statuses=(PlanStatus.ACTIVE, PlanStatus.COMPLETE))
    )
    ledger = world.ledger
    return (
        state,
        len(plans.plans()),
        running,
        ledger.fill_count(),
        ledger.order_count(),
    )


def risk_probe(world: World, price_at: PriceAt) -> Callable[[datetime], bool] | None:
    """`quiet(now)`: whether `risk_check` at `now` (prices from `price_at`) would change
    nothing, the state being as it is; None when some state keeps every run."""
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
    symbols = sorted(set(orders.repo.fill_symbols()) | set(orders.repo.symbols()))
    blocked = state.entries_blocked_text()
    if not symbols:
        return (lambda now: True) if blocked == "[]" else None
    if marks is None:
        return None
    markets = world.markets
    dust = {s: (markets[s].min_amount or Decimal(0)) for s in symbols if s in markets}
    positions = {
        s: p for s, p in orders.positions(dust).items() if p.is_open(dust.get(s, Decimal(0)))
    }
    position_marks = orders.repo.marks()
    params = risk_params(
        ctx.settings.risk,
        risk_off=ctx.store.risk_off(),
        dust_by_symbol=dust,
        markets={s: markets[s] for s in positions if s in markets},
    )
    quote = world.ledger.balances().get(ctx.settings.strategy.quote_currency)
    total = quote.total if quote else Decimal(0)
    cash = quote.free if quote else Decimal(0)

    def quiet(now: datetime) -> bool:
        prices: dict[str, Decimal] = {}
        for symbol in positions:
            price = price_at(symbol, to_ms(now))
            if price is not None:
                prices[symbol] = price
        held = sum((p.size * prices[s] for s, p in positions.items() if s in prices), Decimal(0))
        equity = total + held
        rolled = roll_equity_marks(marks, equity, now)
        if rolled.equity_peak != marks.equity_peak:
            return False
        decision = evaluate(
            positions, position_marks, prices, rolled.account(equity, cash), params, now
        )
        if decision.actions or decision.unsellable or decision.skipped_tiers:
            return False
        if decision.kill_switch:
            return False
        if any(position_marks.get(s) != m for s, m in decision.new_marks.items()):
            return False
        return json.dumps(sorted(decision.block_reasons)) == blocked

    return quiet
