"""Protective stops resting on the exchange: the safety net for when the daemon is down.

The daemon's own stop (hard stop or trailing stop, from the risk rules) stays the decision;
this module mirrors it onto the venue as one STOP_LIMIT sell per open position, sized to the
position and priced at the daemon's stop level, and acts on the difference with the stop
resting there:

- no resting stop: place one (recorded before it is sent, like every order);
- the position changed size (a tier sold, a tranche bought): replace it at once; the daemon's
  stop rose by more than `exchange_stop_step_pct` above the resting trigger: replace it, at
  most once per `exchange_stop_min_interval_seconds` counted from its last move at the venue
  (`OrderRecord.last_moved`; lookups do not count). Replacing goes through the venue's replace
  (cancel-replace or amend, never two live stops that could both fill);
- the position is gone: cancel it.

Every risk tick does this for all positions (`sync_stops`); a job that records a buy fill does
it at once for that symbol, and so does every reconcile for a position it finds without one
(`attach`: the order manager's `protect_positions`), so a position is not left to the next
tick without its stop. Before a tier sale the stop is shrunk to what will
remain (venues reserve the stop's base, so the sale would otherwise be refused); before the
daemon's own exit it is canceled (`before_sale`, `before_exit`: the caller holds
`OrderManager.stop_lock`). When that fails the base is still held and the caller waits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

import structlog

from bot.config.risk_params import fraction, risk_params
from bot.execution.manager import OrderManager, StopReplaceOutcome
from bot.orders.intents import ACTIVE, UNRESOLVED, IntentStatus, OrderIntent, OrderRecord
from bot.orders.protective_stop import KIND, StopPlan, needs_replacement, plan_stop
from bot.services.context import JobContext
from exchanges.base import Market, OrderType, Side
from exchanges.errors import ExchangeError
from exchanges.stops import capabilities_of, protective_stop
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import Position

log = structlog.get_logger("bot.stops")

_GONE = (IntentStatus.CANCELED, IntentStatus.EXPIRED, IntentStatus.NOT_FOUND)


@dataclass(frozen=True)
class BaseCheck:
    """Whether a sale of the daemon's own may go out now, as far as the exchange stop goes.

    free: the stop holds none of the base the sale needs. executing: the stop has triggered
    or filled, so the venue is selling and the daemon sends nothing of its own. why: when
    neither, what still holds the base (for the journal)."""

    free: bool
    executing: bool = False
    why: str = ""


FREE = BaseCheck(True)
EXECUTING = BaseCheck(False, executing=True, why="the exchange stop has triggered and is selling")


def resting_stop(orders: OrderManager, symbol: str) -> OrderRecord | None:
    """The active exchange stop of `symbol` (the newest, if a crash left more than one)."""
    stops = [r for r in orders.repo.active() if r.symbol == symbol and r.kind == KIND]
    return max(stops, key=lambda r: r.created_at) if stops else None


def enabled(ctx: JobContext) -> bool:
    return ctx.settings.risk.exchange_stop and capabilities_of(ctx.services.exchange).stop_orders


def attach(ctx: JobContext) -> None:
    """Have the order manager protect every position it sees grow through a fill, in the
    job run that records the fill, and any it finds without a stop after a reconcile
    (idempotent)."""
    orders = ctx.services.orders
    if enabled(ctx) and orders.protect_positions is None:
        orders.protect_positions = partial(protect, ctx)


async def protect(ctx: JobContext, symbols: list[str], now: datetime) -> None:
    """Bring the exchange stops of `symbols` in line with their positions right now (a fill
    opened or grew them, or a reconcile found them without a stop). A venue error is logged:
    the next risk tick tries again."""
    try:
        markets = await ctx.services.exchange.load_markets()
        known = {s for s in symbols if s in markets}
        dust = {s: markets[s].min_amount or Decimal(0) for s in known}
        params = risk_params(
            ctx.settings.risk,
            risk_off=ctx.store.risk_off(),
            dust_by_symbol=dust,
            markets={s: markets[s] for s in known},
        )
        await sync_stops(ctx, markets, params, dust, now, symbols=known)
    except ExchangeError as exc:
        log.warning("exchange_stop_protect_failed", symbols=symbols, error=str(exc))


async def sync_stops(
    ctx: JobContext,
    markets: dict[str, Market],
    params: RiskParams,
    dust: dict[str, Decimal],
    now: datetime,
    symbols: set[str] | None = None,
    skip: set[str] | None = None,
) -> None:
    """Bring the exchange stop of each position of `symbols` (default: every symbol traded or
    with a stop) but those in `skip` in line with the daemon's stop (see the module doc); a
    stop whose position is closed is canceled. Positions are read under `stop_lock`, as the
    order manager holds them then: one read before waiting for the lock could be a fill old,
    and a stop sized to it could sell more than is held."""
    if not enabled(ctx):
        return
    orders = ctx.services.orders
    async with orders.stop_lock:
        if symbols is None:
            stopped = {r.symbol for r in orders.repo.active() if r.kind == KIND}
            symbols = set(orders.repo.fill_symbols()) | stopped
        positions = {}
        for symbol in symbols:
            position = orders.position(symbol, dust.get(symbol, Decimal(0)))
            if position.is_open(dust.get(symbol, Decimal(0))):
                positions[symbol] = position
        await _cancel_orphans(ctx, positions, symbols, now)
        marks = orders.repo.marks()
        for symbol, position in sorted(positions.items()):
            if symbol in markets and symbol not in (skip or set()):
                await _sync_one(ctx, position, marks.get(symbol), params, markets[symbol], now)


async def _cancel_orphans(
    ctx: JobContext, positions: dict[str, Position], scope: set[str], now: datetime
) -> None:
    orders = ctx.services.orders
    for record in orders.repo.active():
        if record.kind != KIND or record.symbol in positions or record.symbol not in scope:
            continue
        await orders.cancel(record, now)
        ctx.store.journal(
            now,
            "exchange_stop_canceled",
            "position closed: exchange stop canceled",
            symbol=record.symbol,
            client_order_id=record.client_order_id,
        )


async def _sync_one(
    ctx: JobContext,
    position: Position,
    marks: PositionMarks | None,
    params: RiskParams,
    market: Market,
    now: datetime,
) -> None:
    settings = ctx.settings.risk
    orders = ctx.services.orders
    offset = fraction(settings.exchange_stop_limit_offset_pct)
    plan = plan_stop(position, marks, params, market, offset)
    if plan is None:
        return
    resting = resting_stop(orders, position.symbol)
    if resting is None:
        if await _venue_holds(ctx, plan):
            await place(ctx, orders, plan, now)
        return
    if resting.status is not IntentStatus.OPEN:
        return  # unresolved: the venue check looks it up first
    why = needs_replacement(resting, plan, fraction(settings.exchange_stop_step_pct))
    if why is None:
        return
    interval = timedelta(seconds=settings.exchange_stop_min_interval_seconds)
    # A size change is a fill the stop must cover now; only trigger moves are rate-limited.
    due = resting.amount != plan.amount or now - resting.last_moved >= interval
    if due and (plan.amount <= resting.amount or await _venue_holds(ctx, plan)):
        await move_stop(ctx, orders, resting, plan, market, position.size, now, why)


async def _venue_holds(ctx: JobContext, plan: StopPlan) -> bool:
    """Whether the venue holds the base a new or larger stop would sell. The store's position
    can run ahead of the venue's by a sale whose fills are not recorded yet: a stop sized to it
    would be refused, and a refused cancel-replace leaves no stop at all. Next check, then."""
    base = plan.symbol.partition("/")[0]
    try:
        balance = (await ctx.services.exchange.fetch_balances()).get(base)
    except ExchangeError as exc:
        log.warning("exchange_stop_balance_unread", symbol=plan.symbol, error=str(exc))
        return False
    held = balance.total if balance else Decimal(0)
    if held >= plan.amount:
        return True
    log.warning(
        "exchange_stop_waits_for_fills",
        symbol=plan.symbol,
        stop=str(plan.amount),
        venue_holds=str(held),
    )
    return False


async def place(ctx: JobContext, orders: OrderManager, plan: StopPlan, now: datetime) -> None:
    """Place a new stop under the next cause of the cycle ("<cycle cause>|n"): a refusal of an
    earlier placement (the price was at its trigger) must not block this one."""
    used = {
        r.cause
        for r in orders.repo.all(plan.symbol)
        if r.cause == plan.cause or r.cause.startswith(plan.cause + "|")
    }
    attempt = len(used)
    record = await orders.submit(
        OrderIntent(
            cause=plan.cause if attempt == 0 else f"{plan.cause}|{attempt}",
            kind=KIND,
            symbol=plan.symbol,
            side=Side.SELL,
            type=OrderType.STOP_LIMIT,
            amount=plan.amount,
            price=plan.limit,
            trigger_price=plan.trigger,
            reason=f"exchange stop: sell {plan.amount} if the price falls to {plan.trigger}",
        ),
        now,
    )
    if record.status is IntentStatus.OPEN:
        ctx.store.journal(
            now,
            "exchange_stop_placed",
            f"stop resting on the exchange: sell {plan.amount} at {plan.trigger} "
            f"(limit {plan.limit})",
            symbol=plan.symbol,
            client_order_id=record.client_order_id,
        )


async def move_stop(
    ctx: JobContext,
    orders: OrderManager,
    record: OrderRecord,
    plan: StopPlan,
    market: Market,
    position_amount: Decimal,
    now: datetime,
    why: str,
) -> StopReplaceOutcome:
    """Move the resting stop to `plan`; the outcome says what rests afterwards."""
    offset = fraction(ctx.settings.risk.exchange_stop_limit_offset_pct)
    outcome = await orders.replace_stop(
        record,
        OrderIntent(
            cause=record.cause,
            kind=KIND,
            symbol=plan.symbol,
            side=Side.SELL,
            type=OrderType.STOP_LIMIT,
            amount=plan.amount,
            price=plan.limit,
            trigger_price=plan.trigger,
            reason=f"exchange stop moved: {why}",
        ),
        lambda cid: protective_stop(cid, market, plan.amount, plan.trigger, offset),
        position_amount,
        now,
    )
    if outcome.resting is None and outcome.unprotected:
        ctx.store.journal(
            now,
            "exchange_stop_missing",
            f"stop replacement failed and no stop rests on the exchange ({outcome.error}); the "
            "daemon's own stop still protects the position; a new one is placed next check",
            level="warning",
            symbol=plan.symbol,
        )
    elif outcome.moved:
        ctx.store.journal(
            now,
            "exchange_stop_moved",
            f"exchange stop now sells {plan.amount} at {plan.trigger} ({why}; {outcome.method})",
            symbol=plan.symbol,
            client_order_id=outcome.resting.client_order_id if outcome.resting else None,
            unprotected_ms=outcome.unprotected_ms,
        )
    elif outcome.error:
        log.warning("exchange_stop_move_failed", symbol=plan.symbol, why=why, error=outcome.error)
    return outcome


async def _current(ctx: JobContext, symbol: str, now: datetime) -> OrderRecord | None:
    """The resting stop, looked up first when its state is not known (a send or move whose
    answer was lost): a sale must not be sent past a stop that may still hold the base."""
    orders = ctx.services.orders
    record = resting_stop(orders, symbol)
    if record is not None and record.status in UNRESOLVED:
        record = await orders.refresh(record, now)
    return record


def _held(record: OrderRecord, what: str) -> BaseCheck:
    base = record.symbol.partition("/")[0]
    return BaseCheck(
        False,
        why=f"the exchange stop still holds {record.remaining.normalize():f} {base}; {what}",
    )


async def _after_failure(
    ctx: JobContext, record: OrderRecord, now: datetime, retried: str
) -> BaseCheck:
    """A shrink or cancel failed: ask the venue what the stop is now; `retried` says what
    happens next when it still holds the base."""
    current = await ctx.services.orders.refresh(record, now)
    if current.status in _GONE and current.filled == 0:
        return FREE  # gone at the venue meanwhile (by hand, by the venue): nothing holds
    if current.status is IntentStatus.CLOSED or current.filled > 0:
        await ctx.services.orders.sync_fills(record.symbol, now)
        return EXECUTING
    return _held(current, retried)


async def before_sale(
    ctx: JobContext,
    position: Position,
    sell_amount: Decimal,
    market: Market,
    params: RiskParams,
    now: datetime,
) -> BaseCheck:
    """Shrink the resting stop to what a partial sale leaves, so the sale's base is free.
    The caller holds `stop_lock`."""
    if not enabled(ctx):
        return FREE
    record = await _current(ctx, position.symbol, now)
    if record is None or record.status in _GONE:
        return FREE
    if record.status is IntentStatus.CLOSED:
        return EXECUTING
    if record.status is not IntentStatus.OPEN:
        return _held(record, "its state at the venue is unknown; looked up again next check")
    reserves = capabilities_of(ctx.services.exchange).stop_reserves_base
    remaining = position.size - sell_amount
    if record.remaining <= market.round_amount(remaining):
        return FREE  # already shrunk (a sale refused after an earlier shrink)
    orders = ctx.services.orders
    offset = fraction(ctx.settings.risk.exchange_stop_limit_offset_pct)
    marks = orders.repo.marks().get(position.symbol)
    plan = plan_stop(position, marks, params, market, offset, remaining)
    if plan is not None and record.trigger_price is not None and record.price is not None:
        # Only the size changes: the venue took this trigger, a raised one may be at the
        # market already (the stop sync raises it after the sale).
        plan = replace(plan, trigger=record.trigger_price, limit=record.price)
        if market.check(plan.amount, plan.limit) is not None:
            plan = None
    if plan is None:  # what remains is too small for a stop: cancel it
        result = await orders.cancel(record, now)
        if result.status in _GONE and result.filled == 0:
            return FREE
        retried = "its cancel is retried next check"
        return await _after_failure(ctx, record, now, retried) if reserves else FREE
    outcome = await move_stop(
        ctx, orders, record, plan, market, remaining, now, f"tier sale of {sell_amount}"
    )
    if outcome.moved or (outcome.resting is None and outcome.unprotected):
        return FREE
    if outcome.resting is None:  # unknown: both looked up before anything else
        return _held(record, "the shrink's outcome is unknown; looked up next check")
    if outcome.error is None:
        await orders.sync_fills(position.symbol, now)
        return EXECUTING  # the venue refused to move a stop that has triggered
    retried = "the shrink is retried next check"
    return await _after_failure(ctx, record, now, retried) if reserves else FREE


async def before_exit(ctx: JobContext, symbol: str, now: datetime) -> BaseCheck:
    """Cancel the resting stop before the daemon sells everything itself. Not free when the
    stop has triggered or filled (the venue is selling: the daemon must not sell the same
    again) or could not be canceled (it still holds the base). The caller holds `stop_lock`."""
    orders = ctx.services.orders
    record = await _current(ctx, symbol, now)
    if record is None or (record.status in _GONE and record.filled == 0):
        return FREE
    if record.status in ACTIVE:
        result = await orders.cancel(record, now)
        if result.status in _GONE and result.filled == 0:
            return FREE
        if result.status is IntentStatus.OPEN and result.filled == 0:
            return _held(result, "its cancel is retried next check")
        if result.status in UNRESOLVED:
            return _held(result, "its state at the venue is unknown; looked up next check")
        record = result
    ctx.store.journal(
        now,
        "exchange_stop_filled",
        f"the exchange stop is executing ({record.status}, filled {record.filled}): the daemon "
        "sends no exit of its own for it",
        level="warning",
        symbol=symbol,
        client_order_id=record.client_order_id,
    )
    await orders.sync_fills(symbol, now)
    return EXECUTING
