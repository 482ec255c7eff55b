"""Following a placed tranche: its fills, the limit timeout, reprice or market conversion."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from bot.jobs.entry.run import EntryRun
from bot.jobs.entry.tranche_state import data, give_up, label, tranche_fills, with_tranche
from bot.orders.intents import ACTIVE, IntentStatus, OrderIntent, OrderRecord
from bot.strategy.planner import attempt_type, limit_timed_out
from bot.strategy.plans import Plan, Tranche, TrancheStatus
from exchanges.base import OrderType

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


async def follow_order(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], tranche: Tranche
) -> tuple[Tranche, ...]:
    """Bring an `ordered` tranche up to date with its order; reprice it when it timed out."""
    records = run.orders.repo.by_cause(tranche.cause)
    if not records:
        # The tranche was written but its order never reached the manager (a crash between):
        # it goes back through the gates and out, once.
        back = replace(tranche, status=TrancheStatus.PENDING, order_at=None)
        run.repo.save(tranches=[back])
        return with_tranche(tranches, back)
    latest = records[-1]
    current = tranche_fills(run, tranche)
    if latest.status is IntentStatus.OPEN and limit_timed_out(current, run.now, run.params):
        latest = await run.orders.cancel(latest, run.now)
        current = tranche_fills(run, tranche)
    if latest.status in ACTIVE:
        if current != tranche:
            run.repo.save(tranches=[current])
        run.look_again(_times_out(current, run))
        return with_tranche(tranches, current)
    if latest.status is IntentStatus.NOT_FOUND:
        await run.orders.submit(_intent_of(latest), run.now)  # same client id, sent again
        return with_tranche(tranches, current)
    if latest.status is IntentStatus.CLOSED:
        return _filled(run, plan, tranches, current)
    if latest.status is IntentStatus.REJECTED:
        return _rejected(run, plan, tranches, current, latest)
    return _next_attempt(run, plan, tranches, current, latest)


def _times_out(tranche: Tranche, run: EntryRun) -> datetime | None:
    """When a resting limit attempt is due for a reprice; None (the next run) otherwise."""
    if tranche.order_type is not OrderType.LIMIT or tranche.order_at is None:
        return None
    return tranche.order_at + timedelta(hours=run.params.reprice_after_hours)


def _intent_of(record: OrderRecord) -> OrderIntent:
    return OrderIntent(
        cause=record.cause,
        kind=record.kind,
        symbol=record.symbol,
        side=record.side,
        type=record.type,
        amount=record.amount,
        reason=record.reason,
        price=record.price,
        tier=record.tier,
    )


def _filled(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], tranche: Tranche
) -> tuple[Tranche, ...]:
    done = replace(tranche, status=TrancheStatus.FILLED, done_at=run.now)
    run.repo.save(tranches=[done])
    avg = done.average_price
    run.note(
        "tranche_filled",
        f"{label(plan, done)}: bought {done.filled_base} at avg "
        f"{avg.quantize(_CENT) if avg else '?'} for {done.filled_quote.quantize(_CENT)} "
        f"{run.params.quote} (fees {done.fees})",
        symbol=plan.symbol,
        **data(plan, done),
        filled=str(done.filled_base),
        cost=str(done.filled_quote),
    )
    return with_tranche(tranches, done)


def _rejected(
    run: EntryRun,
    plan: Plan,
    tranches: tuple[Tranche, ...],
    tranche: Tranche,
    record: OrderRecord,
) -> tuple[Tranche, ...]:
    if tranche.filled_base > 0:
        return give_up(run, plan, tranches, tranche, f"re-placement rejected: {record.last_error}")
    failed = replace(tranche, status=TrancheStatus.FAILED, done_at=run.now, note=record.last_error)
    run.repo.save(tranches=[failed])
    run.note(
        "tranche_failed",
        f"{label(plan, tranche)} rejected by the venue: {record.last_error}; not retried",
        symbol=plan.symbol,
        level="warning",
        **data(plan, tranche),
    )
    return with_tranche(tranches, failed)


def _next_attempt(
    run: EntryRun,
    plan: Plan,
    tranches: tuple[Tranche, ...],
    tranche: Tranche,
    record: OrderRecord,
) -> tuple[Tranche, ...]:
    """The attempt's order ended unfilled or part-filled: reprice, go to market, or stop."""
    attempt = tranche.attempt + 1
    kind = attempt_type(attempt, run.params, plan.order_type)
    minimum = run.market(plan.symbol).min_cost or _ZERO
    left = tranche.remaining_quote
    ended = f"{record.type} order {record.status} with {record.filled} of {record.amount} filled"
    if kind is None:
        return give_up(run, plan, tranches, tranche, f"{ended}; no re-placement left")
    if left <= 0 or left < minimum:
        return give_up(run, plan, tranches, tranche, f"{ended}; {left} left is below minimum")
    again = replace(
        tranche,
        status=TrancheStatus.PENDING,
        attempt=attempt,
        order_type=kind,
        order_at=None,
    )
    run.repo.save(tranches=[again])
    action = "converted to a market order" if kind is OrderType.MARKET else "repriced"
    run.note(
        "tranche_to_market" if kind is OrderType.MARKET else "tranche_repriced",
        f"{label(plan, tranche)}: {ended}; {action} for the remaining {left.quantize(_CENT)} "
        f"{run.params.quote} (re-placement {attempt})",
        symbol=plan.symbol,
        **data(plan, again),
    )
    return with_tranche(tranches, again)


async def cancel_live(run: EntryRun, plan: Plan, tranche: Tranche, why: str) -> Tranche:
    """End a tranche because its plan ended: cancel a live order, keep what it bought."""
    if tranche.status is TrancheStatus.ORDERED:
        records = run.orders.repo.by_cause(tranche.cause)
        if records and records[-1].status in ACTIVE:
            await run.orders.cancel(records[-1], run.now)
        tranche = tranche_fills(run, tranche)
    bought = tranche.filled_base > 0
    return replace(
        tranche,
        status=TrancheStatus.FILLED if bought else TrancheStatus.CANCELED,
        done_at=run.now,
        note=why,
    )
