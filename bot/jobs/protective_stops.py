"""Protective stops resting on the exchange: the safety net for when the daemon is down.

The daemon's own stop (hard stop or trailing stop, from the risk rules) stays the decision;
this module mirrors it onto the venue as one STOP_LIMIT sell per open position, sized to the
position and priced at the daemon's stop level. Each risk tick it compares the desired stop
with the resting one and acts on the difference:

- no resting stop: place one (recorded before it is sent, like every order);
- the position changed size (a tier sold, a tranche bought) or the daemon's stop rose by more
  than `exchange_stop_step_pct` above the resting trigger: replace it, at most once per
  `exchange_stop_min_interval_seconds`, through the venue's replace (cancel-replace or amend,
  never two live stops that could both fill);
- the position is gone: cancel it.

Before a tier sale the stop is shrunk to what will remain (venues reserve the stop's base, so
the sale would otherwise fail); before the daemon's own exit the stop is canceled, and if it
has already triggered or filled the daemon sends no exit of its own for that quantity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from bot.config.risk_params import fraction
from bot.execution.manager import OrderManager
from bot.orders.intents import IntentStatus, OrderIntent, OrderRecord
from bot.orders.protective_stop import KIND, StopPlan, needs_replacement, plan_stop
from bot.services.context import JobContext
from exchanges.base import Market, OrderType, Side
from exchanges.stops import capabilities_of, protective_stop
from risk.params import RiskParams
from risk.position import Position

log = structlog.get_logger("bot.stops")


def resting_stop(orders: OrderManager, symbol: str) -> OrderRecord | None:
    """The active exchange stop of `symbol` (the newest, if a crash left more than one)."""
    stops = [r for r in orders.repo.active() if r.symbol == symbol and r.kind == KIND]
    return max(stops, key=lambda r: r.created_at) if stops else None


def enabled(ctx: JobContext) -> bool:
    return ctx.settings.risk.exchange_stop and capabilities_of(ctx.services.exchange).stop_orders


async def sync_stops(
    ctx: JobContext,
    positions: dict[str, Position],
    markets: dict[str, Market],
    params: RiskParams,
    now: datetime,
    skip: set[str] | None = None,
) -> None:
    """Bring every position's exchange stop in line with the daemon's stop (see module doc)."""
    if not enabled(ctx):
        return
    orders = ctx.services.orders
    settings = ctx.settings.risk
    marks = orders.repo.marks()
    offset = fraction(settings.exchange_stop_limit_offset_pct)
    step = fraction(settings.exchange_stop_step_pct)
    interval = timedelta(seconds=settings.exchange_stop_min_interval_seconds)
    held = {s for s, p in positions.items() if p.size > 0}
    for record in orders.repo.active():
        if record.kind == KIND and record.symbol not in held:
            await orders.cancel(record, now)
            ctx.store.journal(
                now,
                "exchange_stop_canceled",
                "position closed: exchange stop canceled",
                symbol=record.symbol,
                client_order_id=record.client_order_id,
            )
    for symbol, position in positions.items():
        if symbol in (skip or set()) or symbol not in markets:
            continue
        plan = plan_stop(position, marks.get(symbol), params, markets[symbol], offset)
        resting = resting_stop(orders, symbol)
        if plan is None:
            continue
        if resting is None:
            await place(ctx, orders, plan, now)
        elif resting.status is IntentStatus.OPEN:
            why = needs_replacement(resting, plan, step)
            if why and now - resting.updated_at >= interval:
                await replace(ctx, orders, resting, plan, markets[symbol], position.size, now, why)


async def place(ctx: JobContext, orders: OrderManager, plan: StopPlan, now: datetime) -> None:
    attempt = len(orders.repo.by_cause(plan.cause))
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


async def replace(
    ctx: JobContext,
    orders: OrderManager,
    record: OrderRecord,
    plan: StopPlan,
    market: Market,
    position_amount: Decimal,
    now: datetime,
    why: str,
) -> OrderRecord | None:
    """Move the resting stop to `plan`; returns the stop resting afterwards (None if none)."""
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
    return outcome.resting


async def before_sale(
    ctx: JobContext,
    position: Position,
    sell_amount: Decimal,
    market: Market,
    params: RiskParams,
    now: datetime,
) -> None:
    """Shrink the resting stop to what a partial sale leaves, so the sale's base is free."""
    if not enabled(ctx):
        return
    orders = ctx.services.orders
    record = resting_stop(orders, position.symbol)
    if record is None or record.status is not IntentStatus.OPEN:
        return
    offset = fraction(ctx.settings.risk.exchange_stop_limit_offset_pct)
    remaining = position.size - sell_amount
    plan = plan_stop(
        position, orders.repo.marks().get(position.symbol), params, market, offset, remaining
    )
    if plan is None:
        await orders.cancel(record, now)
        return
    await replace(ctx, orders, record, plan, market, remaining, now, f"tier sale of {sell_amount}")


async def before_exit(ctx: JobContext, symbol: str, now: datetime) -> bool:
    """Cancel the resting stop before the daemon exits; False when the stop has already
    triggered or filled (the venue is selling: the daemon must not sell the same again)."""
    orders = ctx.services.orders
    record = resting_stop(orders, symbol)
    if record is None:
        return True
    result = await orders.cancel(record, now)
    if result.status is IntentStatus.CANCELED and result.filled == 0:
        return True
    ctx.store.journal(
        now,
        "exchange_stop_filled",
        f"the exchange stop is executing ({result.status}, filled {result.filled}): the daemon "
        "sends no exit of its own for it",
        level="warning",
        symbol=symbol,
        client_order_id=record.client_order_id,
    )
    await orders.sync_fills(symbol, now)
    return False
