"""The entry planner: plan creation, the tranche schedule and its changes. Pure.

Schedule rules (each pinned by a test in tests/unit/strategy/test_planner.py):

- Tranche i (0-based) of N is due at start + i * window / (N - 1); one tranche: at start.
- Tranches go out in order: only the first pending tranche can be placed, so a long hold
  never releases several tranches at once.
- A tranche placed after a gate held it slides every later pending tranche (except pulled
  forward ones) by the time it was held: a pause shifts the rest of the plan instead of
  bunching it up.
- A new liquidation flush makes the next `flush_pull_forward` pending tranches due now. It
  moves the plan's own tranches, so the plan never spends more than its budget.
- A plan gets fewer, larger tranches when its budget split `tranches` ways would put a tranche
  below the venue's minimum order (`tranche_minimum`, with `TRANCHE_MIN_MARGIN`); the count is
  the largest that clears it, and none (no plan) when even one tranche cannot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from bot.strategy.allocation import split_tranches
from bot.strategy.params import StrategyParams
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus
from exchanges.base import Market, OrderType, Side

# A tranche must hold 25 % more than the venue's minimum order at plan start: its order is
# sized after the fee (~0.1 %), rounded down to the lot step, and a minimum in base units
# (min_amount) costs more quote when the price rises over the entry window (weeks). 25 % covers
# a 20 % rise plus fees and rounding; a tranche that still ends up short is skipped as before.
TRANCHE_MIN_MARGIN = Decimal("1.25")


def tranche_minimum(market: Market, price: Decimal | None) -> Decimal:
    """Smallest quote a tranche should hold at plan start: the venue's minimum notional
    (`min_cost`) or the cost of its minimum amount at `price`, whichever is larger, times
    `TRANCHE_MIN_MARGIN`; 0 when the venue states neither."""
    need = market.min_cost or Decimal(0)
    if market.min_amount is not None and price is not None:
        need = max(need, market.min_amount * price)
    return need * TRANCHE_MIN_MARGIN


def plan_id_for(symbol: str, cycle: int, now: datetime) -> str:
    """Readable and unique across database resets: a reset must never reuse a client id."""
    return f"{symbol.replace('/', '')}-c{cycle}-{now:%Y%m%dT%H%M%S}"


def schedule_times(start: datetime, count: int, window_days: float) -> list[datetime]:
    if count == 1:
        return [start]
    step = timedelta(days=window_days) / (count - 1)
    return [start + step * i for i in range(count)]


def new_plan(
    symbol: str,
    kind: str,
    cycle: int,
    budget: Decimal,
    start_price: Decimal | None,
    reason: str,
    now: datetime,
    params: StrategyParams,
    count: int | None = None,
) -> tuple[Plan, tuple[Tranche, ...]]:
    """A plan starting `now` with `count` (default `params.tranches`) equal tranches summing
    to `budget`; the caller picks a smaller count with `tranche_count` when the venue's
    minimum order needs it."""
    count = params.tranches if count is None else count
    if count < 1:
        raise ValueError("a plan needs at least one tranche")
    plan = Plan(
        plan_id=plan_id_for(symbol, cycle, now),
        symbol=symbol,
        cycle=cycle,
        kind=kind,
        status=PlanStatus.ACTIVE,
        budget=budget,
        order_type=params.order_type,
        created_at=now,
        start_price=start_price,
        start_reason=reason,
    )
    times = schedule_times(now, count, params.entry_window_days)
    amounts = split_tranches(budget, count)
    limit = params.order_type is OrderType.LIMIT
    offsets = params.limit_offsets if limit else (Decimal(0),)
    tranches = tuple(
        Tranche(
            plan_id=plan.plan_id,
            number=i + 1,
            quote_amount=amounts[i],
            offset=offsets[i % len(offsets)],
            planned_at=times[i],
            scheduled_at=times[i],
            order_type=params.order_type,
        )
        for i in range(count)
    )
    return plan, tranches


def next_pending(tranches: tuple[Tranche, ...]) -> Tranche | None:
    """The first tranche not yet placed: the only one that may be placed next."""
    pending = [t for t in tranches if t.status is TrancheStatus.PENDING]
    return min(pending, key=lambda t: t.number) if pending else None


def is_due(tranche: Tranche, now: datetime) -> bool:
    return tranche.status is TrancheStatus.PENDING and tranche.scheduled_at <= now


def pull_forward(
    tranches: tuple[Tranche, ...], count: int, now: datetime
) -> tuple[tuple[Tranche, ...], list[int]]:
    """Make the next `count` pending tranches due `now`; returns (tranches, numbers moved).

    Tranches already due are counted but not changed (they are going out anyway).
    """
    pending = sorted(
        (t for t in tranches if t.status is TrancheStatus.PENDING), key=lambda t: t.number
    )[:count]
    moved = {t.number for t in pending if t.scheduled_at > now}
    return (
        tuple(
            replace(t, scheduled_at=now, pulled_forward=True) if t.number in moved else t
            for t in tranches
        ),
        sorted(moved),
    )


def slide_after_hold(
    tranches: tuple[Tranche, ...], placed: Tranche, now: datetime
) -> tuple[tuple[Tranche, ...], timedelta]:
    """Shift the pending tranches after `placed` by how long a gate held it back."""
    if placed.held_since is None or placed.held_since >= now:
        return tranches, timedelta(0)
    delay = now - placed.held_since
    return (
        tuple(
            replace(t, scheduled_at=t.scheduled_at + delay)
            if t.number > placed.number
            and t.status is TrancheStatus.PENDING
            and not t.pulled_forward
            else t
            for t in tranches
        ),
        delay,
    )


def hold(tranche: Tranche, gate: str, reason: str, now: datetime) -> Tranche:
    """The tranche held back by `gate`; keeps the time the first hold began."""
    return replace(
        tranche,
        held_since=tranche.held_since or now,
        hold_gate=gate,
        hold_reason=reason,
    )


def attempt_type(attempt: int, params: StrategyParams, plan_type: OrderType) -> OrderType | None:
    """Order type of re-placement `attempt` (1 = first reprice); None = no further attempt.

    Attempts 1..max_reprices reprice the limit; the next converts to market when
    `convert_to_market` is set. A market plan makes no further attempt.
    """
    if plan_type is OrderType.MARKET:
        return None
    if attempt <= params.max_reprices:
        return OrderType.LIMIT
    if attempt == params.max_reprices + 1 and params.convert_to_market:
        return OrderType.MARKET
    return None


def limit_timed_out(tranche: Tranche, now: datetime, params: StrategyParams) -> bool:
    """A resting limit attempt older than `reprice_after_hours` is to be cancelled."""
    return (
        tranche.status is TrancheStatus.ORDERED
        and tranche.order_type is OrderType.LIMIT
        and tranche.order_at is not None
        and now - tranche.order_at >= timedelta(hours=params.reprice_after_hours)
    )


def limit_price(reference: Decimal, offset: Decimal, market: Market) -> Decimal:
    """`offset` below `reference`, rounded down to the tick (a buy never pays more)."""
    return market.round_price(reference * (1 - offset), Side.BUY)


def order_amount(quote: Decimal, price: Decimal, fee: Decimal, market: Market) -> Decimal:
    """Base amount `quote` buys at `price` once the fee (fraction) is paid, stepped down."""
    if price <= 0:
        return Decimal(0)
    return market.round_amount(quote / (price * (1 + fee)))
