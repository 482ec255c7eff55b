"""Placing a due tranche: the gates, the size the risk limits allow, the order.

Restart safety: the tranche row is written (status `ordered`, attempt k) BEFORE the order
manager is asked to place cause k, and the manager places a cause at most once. A crash
between the two leaves an `ordered` tranche without an order, which the next run sends back
through the gates; a crash after a cancel leaves a cancelled order the next run moves past.
No tranche is skipped or placed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from bot.jobs.entry.account import entry_allowance, stored_block_reasons
from bot.jobs.entry.following import follow_order
from bot.jobs.entry.run import EntryRun, log
from bot.jobs.entry.tranche_state import data, give_up, label, with_tranche
from bot.orders.intents import OrderIntent, OrderRecord
from bot.strategy import gates
from bot.strategy.params import AntiChaseAction
from bot.strategy.planner import (
    hold,
    is_due,
    limit_price,
    next_pending,
    order_amount,
    slide_after_hold,
)
from bot.strategy.plans import Plan, Tranche, TrancheStatus
from exchanges.base import OrderType, Side

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Sizing:
    """The order a tranche would send now, or why it cannot.

    amount None: not placeable; `hold` says whether to retry later (risk room) or to give
    the tranche up (the venue minimum exceeds what is left of it). quote: quote to spend.
    """

    amount: Decimal | None
    price: Decimal | None
    quote: Decimal
    note: str
    hold: bool = False


async def place_due(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...]
) -> tuple[Tranche, ...]:
    """Place due tranches in order until one is held or the next is not due yet."""
    for _ in range(len(tranches) * (run.params.max_reprices + 3)):
        tranche = next_pending(tranches)
        if tranche is None:
            break
        if not is_due(tranche, run.now):
            run.look_again(tranche.scheduled_at)
            break
        tranches, progressed = await try_place(run, plan, tranches, tranche)
        if not progressed:
            break
    return tranches


async def try_place(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], tranche: Tranche
) -> tuple[tuple[Tranche, ...], bool]:
    """Place the due `tranche` if every gate lets it through; (tranches, progressed)."""
    if run.orders.repo.by_cause(tranche.cause):
        # Placed before a crash that lost the tranche's own update: adopt the order.
        adopted = replace(tranche, status=TrancheStatus.ORDERED, order_at=run.now)
        run.repo.save(tranches=[adopted])
        return await follow_order(run, plan, with_tranche(tranches, adopted), adopted), True
    gate, reason = await _first_hold(run, plan)
    if gate == gates.ANTI_CHASE and (
        run.params.anti_chase_action is AntiChaseAction.SKIP
        or gates.anti_chase_expired(tranche.scheduled_at, run.now, run.params)
    ):
        return give_up(run, plan, tranches, tranche, f"anti-chase: {reason}"), True
    if gate is not None:
        if gate not in (gates.REGIME, gates.RISK):  # those change with the signals, the store
            run.look_again()
        return _hold(run, plan, tranches, tranche, gate, reason or gate), False
    sizing = await _size(run, plan, tranche)
    if sizing.amount is None:
        if sizing.hold:
            run.look_again()  # the room the risk limits leave moves with the prices
            return _hold(run, plan, tranches, tranche, gates.RISK, sizing.note), False
        return give_up(run, plan, tranches, tranche, sizing.note), True
    placed = replace(
        tranche,
        status=TrancheStatus.ORDERED,
        order_at=run.now,
        first_placed_at=tranche.first_placed_at or run.now,
        held_since=None,
        hold_gate=None,
        hold_reason=None,
    )
    tranches, delay = slide_after_hold(with_tranche(tranches, placed), tranche, run.now)
    run.repo.save(tranches=tranches)  # before the order: see the module docstring
    record = await _submit(run, plan, placed, sizing.amount, sizing.price)
    what = "market" if sizing.price is None else f"limit {sizing.price}"
    message = (
        f"{label(plan, placed)}: buy {sizing.amount} at {what} for ~"
        f"{sizing.quote.quantize(_CENT)} {run.params.quote}"
    )
    if placed.attempt:
        message += f" (re-placement {placed.attempt})"
    if placed.pulled_forward:
        message += " (pulled forward by a flush)"
    if sizing.note:
        message += f"; {sizing.note}"
    if delay:
        message += f"; held {delay}, later tranches moved by as much"
    run.note(
        "tranche_placed",
        message,
        symbol=plan.symbol,
        **data(plan, placed),
        amount=str(sizing.amount),
        price=None if sizing.price is None else str(sizing.price),
        order_type=placed.order_type.value,
        client_order_id=record.client_order_id,
        order_status=record.status.value,
    )
    return await follow_order(run, plan, tranches, placed), True


async def _first_hold(run: EntryRun, plan: Plan) -> tuple[str | None, str | None]:
    params = run.params
    reason = gates.regime_pause_gate(run.regime, params)
    if reason:
        return gates.REGIME, reason
    reason = gates.fomc_gate(run.hours_to_fomc, params)
    if reason:
        return gates.FOMC, reason
    reason = gates.risk_gate(stored_block_reasons(run))
    if reason:
        return gates.RISK, reason
    if params.anti_chase_pct is not None:
        if run.history is None:
            log.debug("anti_chase_unchecked", symbol=plan.symbol, why="no price history source")
            return None, None
        closes = await run.history.daily_closes(plan.symbol, run.now, params.anti_chase_days)
        reason = gates.anti_chase_gate(await run.price(plan.symbol), closes, params)
        if reason:
            return gates.ANTI_CHASE, reason
    return None, None


async def _size(run: EntryRun, plan: Plan, tranche: Tranche) -> Sizing:
    market = run.market(plan.symbol)
    ticker = await run.ticker(plan.symbol)
    allowance = await entry_allowance(run, plan.symbol, tranche.remaining_quote)
    if allowance.blocked:
        return Sizing(None, None, _ZERO, f"risk limits: {allowance.reason}", hold=True)
    quote = allowance.allowed
    note = f"risk limits: {allowance.reason}" if allowance.clipped else ""
    if tranche.order_type is OrderType.LIMIT:
        reference = ticker.bid or ticker.last
        price = limit_price(reference, tranche.offset, market) if reference else None
        fee, cost_price = market.maker_fee, price
    else:
        reference = ticker.ask or ticker.last
        price, fee, cost_price = None, market.taker_fee, reference
    if cost_price is None:
        return Sizing(None, None, quote, f"no price for {plan.symbol}", hold=True)
    amount = order_amount(quote, cost_price, fee, market)
    problem = market.check(amount, cost_price)
    if problem is not None:
        if allowance.clipped:
            return Sizing(None, None, quote, f"{note}; what is left: {problem}", hold=True)
        return Sizing(None, None, quote, problem)
    return Sizing(amount, price, quote, note)


async def _submit(
    run: EntryRun, plan: Plan, tranche: Tranche, amount: Decimal, price: Decimal | None
) -> OrderRecord:
    total = len(run.repo.tranches(plan.plan_id))
    intent = OrderIntent(
        cause=tranche.cause,
        kind="tranche",
        symbol=plan.symbol,
        side=Side.BUY,
        type=tranche.order_type,
        amount=amount,
        reason=f"plan {plan.plan_id} cycle {plan.cycle}: tranche {tranche.number}/{total}"
        + (f", re-placement {tranche.attempt}" if tranche.attempt else ""),
        price=price,
    )
    return await run.orders.submit(intent, run.now)


def _hold(
    run: EntryRun,
    plan: Plan,
    tranches: tuple[Tranche, ...],
    tranche: Tranche,
    gate: str,
    reason: str,
) -> tuple[Tranche, ...]:
    held = hold(tranche, gate, reason, run.now)
    if held != tranche:
        run.repo.save(tranches=[held])
    if tranche.hold_gate != gate:  # journal a hold when it begins or its cause changes
        run.note(
            "tranche_held",
            f"{label(plan, tranche)} held: {reason}",
            symbol=plan.symbol,
            gate=gate,
            **data(plan, tranche),
        )
    else:
        log.debug("tranche_still_held", symbol=plan.symbol, gate=gate, reason=reason)
    return with_tranche(tranches, held)
