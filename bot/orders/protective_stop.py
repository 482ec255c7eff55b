"""The stop order a position should have resting on the venue. Pure: no I/O, no clock.

The daemon's own stop (hard stop or armed trailing stop) stays the decision; the exchange stop
mirrors it as one STOP_LIMIT sell sized to the position (`bot.jobs.protective_stops` acts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.orders.intents import OrderRecord
from exchanges.base import Market, Side
from exchanges.stops import stop_limit_price
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import Position
from risk.stops import position_stop

KIND = "exchange_stop"


def daemon_stop_level(
    position: Position, marks: PositionMarks | None, params: RiskParams
) -> Decimal | None:
    """The price at which the daemon itself would exit everything: the higher of the hard stop
    (or break-even) and the armed trailing stop; None when neither rule applies."""
    hard = position_stop(position, marks, params)
    levels = [hard.price] if hard else []
    if marks is not None and marks.cycle_id == position.cycle_id and marks.trailing_stop:
        levels.append(marks.trailing_stop)
    return max(levels) if levels else None


@dataclass(frozen=True)
class StopPlan:
    """What the exchange stop of one position should be."""

    symbol: str
    cause: str
    amount: Decimal
    trigger: Decimal
    limit: Decimal


def plan_stop(
    position: Position,
    marks: PositionMarks | None,
    params: RiskParams,
    market: Market,
    limit_offset: Decimal,
    amount: Decimal | None = None,
) -> StopPlan | None:
    """Pure: the stop a position should have (None: no stop rule, or too small to place)."""
    level = daemon_stop_level(position, marks, params)
    size = market.round_amount(position.size if amount is None else amount)
    if level is None or size <= 0:
        return None
    trigger = market.round_price(level, Side.SELL)
    limit = stop_limit_price(market, Side.SELL, trigger, limit_offset)
    if market.check(size, limit) is not None:
        return None
    cause = f"{position.symbol}|{position.cycle_id}|stop"
    return StopPlan(position.symbol, cause, size, trigger, limit)


def needs_replacement(record: OrderRecord, plan: StopPlan, step: Decimal) -> str | None:
    """Why the resting stop no longer matches the plan, or None."""
    if record.amount != plan.amount:
        return f"size {record.amount} -> {plan.amount}"
    trigger = record.trigger_price or Decimal(0)
    if plan.trigger > trigger * (1 + step):
        return f"trigger {trigger} -> {plan.trigger}"
    return None
