"""`plan_status`: what `qtbot status` prints about each plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.ops.plan_progress import plan_progress, plan_status
from bot.state.plans_repo import StrategyRepo, create_strategy_tables
from bot.state.store import Store
from bot.strategy.planner import new_plan
from bot.strategy.plans import PlanStatus, TrancheStatus
from tests.unit.strategy.kit import params

T0 = datetime(2025, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _plan_with_two_filled():  # type: ignore[no-untyped-def]
    p = params()
    plan, tranches = new_plan("BTC/USDT", "core", 1, p.budget, Decimal(100), "easing", T0, p)
    t1 = replace(
        tranches[0],
        status=TrancheStatus.FILLED,
        filled_base=Decimal("2.5"),
        filled_quote=Decimal(250),
    )
    t2 = replace(
        tranches[1],
        status=TrancheStatus.FILLED,
        filled_base=Decimal("2.5"),
        filled_quote=Decimal(240),
    )
    t3 = replace(tranches[2], hold_gate="fomc", hold_reason="FOMC decision in 5.0 h")
    return plan, (t1, t2, t3, tranches[3])


def test_progress_counts_tranches_and_averages_the_entry() -> None:
    plan, tranches = _plan_with_two_filled()
    progress = plan_progress(plan, tranches, T0 + 15 * DAY)
    assert (progress.tranches_done, progress.tranches_filled, progress.tranches_due) == (2, 2, 1)
    assert progress.spent == Decimal(490) and progress.average_entry == Decimal(98)
    assert progress.next_at == T0 + 14 * DAY and progress.held_by == "fomc"
    line = progress.summary()
    assert "2/4 tranches done" in line and "avg entry 98.00" in line and "FOMC" in line
    data = progress.as_dict()
    assert data["status"] == "active" and data["average_entry"] == "98"
    assert data["next_at"] == (T0 + 14 * DAY).isoformat()


def test_status_lists_running_plans_and_the_last_closed_one(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    create_strategy_tables(store.engine)
    repo = StrategyRepo(store.engine)
    p = params()
    for cycle in (1, 2, 3):
        plan, tranches = new_plan(
            "BTC/USDT", "core", cycle, p.budget, Decimal(100), "x", T0 + cycle * 30 * DAY, p
        )
        if cycle < 3:
            plan = replace(plan, status=PlanStatus.CLOSED, realized_pnl=Decimal(cycle))
        repo.insert_plan(plan, tranches)
    shown = plan_status(repo, T0 + 100 * DAY)
    assert [(s.cycle, s.status) for s in shown] == [
        (2, PlanStatus.CLOSED),
        (3, PlanStatus.ACTIVE),
    ]
    assert [s.cycle for s in plan_status(repo, T0, closed=0)] == [3]
    store.close()
