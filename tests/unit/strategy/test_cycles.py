"""Cycles: next budget (fixed or compounding), which position cycle a plan owns, its close."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.strategy.cycles import cycle_budget, cycle_closed, cycle_pnl, plan_cycle_id
from bot.strategy.params import BudgetMode
from bot.strategy.plans import Plan, PlanStatus
from exchanges.base import OrderType
from risk.position import Position
from tests.unit.strategy.kit import params

T0 = datetime(2025, 12, 1, tzinfo=UTC)


def _plan(cycle: int, pnl: str | None, status: PlanStatus = PlanStatus.CLOSED) -> Plan:
    return Plan(
        plan_id=f"p{cycle}",
        symbol="BTC/USDT",
        cycle=cycle,
        kind="core",
        status=status,
        budget=Decimal(1000),
        order_type=OrderType.LIMIT,
        created_at=T0 + timedelta(days=30 * cycle),
        start_price=Decimal(100),
        start_reason="test",
        realized_pnl=None if pnl is None else Decimal(pnl),
        position_cycle_id=f"fill-{cycle}",
    )


@pytest.mark.parametrize(
    ("mode", "history", "expected"),
    [
        pytest.param(BudgetMode.FIXED, [("150", PlanStatus.CLOSED)], "1000", id="fixed"),
        pytest.param(BudgetMode.COMPOUNDING, [], "1000", id="first_cycle"),
        pytest.param(BudgetMode.COMPOUNDING, [("150", PlanStatus.CLOSED)], "1150", id="one_profit"),
        pytest.param(
            BudgetMode.COMPOUNDING,
            [("150", PlanStatus.CLOSED), ("-50", PlanStatus.CLOSED)],
            "1100",
            id="profit_then_loss",
        ),
        pytest.param(
            BudgetMode.COMPOUNDING, [("-1500", PlanStatus.CLOSED)], "0", id="never_negative"
        ),
        pytest.param(
            BudgetMode.COMPOUNDING,
            [(None, PlanStatus.CLOSED), ("80", PlanStatus.COMPLETE)],
            "1000",
            id="unknown_and_open_cycles_ignored",
        ),
    ],
)
def test_next_cycle_budget(
    mode: BudgetMode, history: list[tuple[str | None, PlanStatus]], expected: str
) -> None:

    plans = [_plan(i + 1, pnl, status) for i, (pnl, status) in enumerate(history)]
    assert cycle_budget(Decimal(1000), plans, params(budget_mode=mode)) == Decimal(expected)


def _position(cycle_id: str | None, opened: datetime | None, open_: bool) -> Position:
    return Position(
        symbol="BTC/USDT",
        size=Decimal(1) if open_ else Decimal(0),
        avg_entry_price=Decimal(100),
        fees=Decimal(2),
        realized_pnl=Decimal(30),
        cycle_id=cycle_id,
        cycle_open=open_,
        opened_at=opened,
    )


def test_plan_adopts_only_a_cycle_that_began_after_it() -> None:
    plan = replace(_plan(2, None, PlanStatus.ACTIVE), position_cycle_id=None)
    earlier = [_plan(1, "10")]
    after = plan.created_at + timedelta(hours=1)
    assert plan_cycle_id(plan, _position("t9", after, True), earlier, Decimal(1)) == "t9"
    assert plan_cycle_id(plan, _position("t9", after, True), earlier, Decimal(0)) is None
    assert plan_cycle_id(plan, _position("fill-1", after, False), earlier, Decimal(1)) is None
    before = plan.created_at - timedelta(days=1)
    assert plan_cycle_id(plan, _position("t9", before, True), earlier, Decimal(1)) is None


def test_a_cycle_that_opened_and_closed_between_runs_is_still_adopted_and_closed() -> None:
    plan = replace(_plan(2, None, PlanStatus.ACTIVE), position_cycle_id=None)
    flat = _position("t9", plan.created_at + timedelta(minutes=5), False)
    adopted = replace(plan, position_cycle_id=plan_cycle_id(plan, flat, [], Decimal(1)))
    assert cycle_closed(adopted, flat, Decimal(0))
    assert cycle_pnl(adopted, flat) == Decimal(28)  # realised 30 - fees 2


def test_open_cycle_is_not_closed_and_unknown_cycle_has_no_pnl() -> None:
    plan = _plan(1, None, PlanStatus.COMPLETE)
    assert not cycle_closed(plan, _position("fill-1", T0, True), Decimal(0))
    newer = _position("other", T0, True)
    assert cycle_closed(plan, newer, Decimal(0)) and cycle_pnl(plan, newer) is None
    assert not cycle_closed(replace(plan, position_cycle_id=None), newer, Decimal(0))
