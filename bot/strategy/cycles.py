"""Cycles: one plan's entries to the last exit, then a new plan. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from bot.strategy.allocation import BUDGET_QUANTUM
from bot.strategy.params import BudgetMode, StrategyParams
from bot.strategy.plans import Plan, PlanStatus
from risk.position import Position

_ZERO = Decimal(0)
# Fill times are the venue's, plan times the bot's clock: allow this much skew between them.
CLOCK_SKEW = timedelta(minutes=5)


def cycle_budget(configured: Decimal, history: Sequence[Plan], params: StrategyParams) -> Decimal:
    """Budget of the symbol's next plan given its earlier plans.

    FIXED: the configured share. COMPOUNDING: the configured share plus the realised net PnL
    (after fees) of every closed cycle of the symbol, never below zero. Measuring from the
    configured share (not the last budget) means a changed setting takes effect at once.
    """
    if params.budget_mode is BudgetMode.FIXED:
        return configured
    pnl = sum((p.realized_pnl or _ZERO for p in history if p.status is PlanStatus.CLOSED), _ZERO)
    return max((configured + pnl).quantize(BUDGET_QUANTUM), _ZERO)


def plan_cycle_id(
    plan: Plan, position: Position, earlier: Sequence[Plan], bought: Decimal
) -> str | None:
    """The position cycle the plan's fills opened, once the fills are visible.

    None while the plan has bought nothing, or the position still shows an older cycle (its
    fills not synced yet): a cycle that began before the plan or belongs to an earlier plan
    is never adopted.
    """
    if bought <= 0 or position.cycle_id is None or position.opened_at is None:
        return None
    if position.cycle_id in {p.position_cycle_id for p in earlier}:
        return None
    if position.opened_at < plan.created_at - CLOCK_SKEW:
        return None
    return position.cycle_id


def cycle_closed(plan: Plan, position: Position, dust: Decimal) -> bool:
    """The plan's position cycle has ended: sold down to dust (or a newer cycle exists)."""
    if plan.position_cycle_id is None:
        return False
    if position.cycle_id != plan.position_cycle_id:
        return True
    return not position.is_open(dust)


def cycle_pnl(plan: Plan, position: Position) -> Decimal | None:
    """Net realised PnL (quote, after all the cycle's fees) of the plan's closed cycle.

    None when the position already shows a newer cycle (the old one's totals are gone).
    """
    if position.cycle_id != plan.position_cycle_id:
        return None
    return (position.realized_pnl - position.fees).quantize(BUDGET_QUANTUM)
