"""Plans and tranches round-trip exactly (Decimal text, UTC) and survive a new connection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect

from bot.state.plans_repo import StrategyRepo, create_strategy_tables
from bot.state.store import Store
from bot.strategy.planner import new_plan
from bot.strategy.plans import PlanStatus, TrancheStatus
from exchanges.base import OrderType
from tests.unit.strategy.kit import params

T0 = datetime(2025, 12, 1, 9, 30, tzinfo=UTC)


def test_tables_are_prefixed_and_creating_them_twice_is_harmless(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    create_strategy_tables(store.engine)
    with store.engine.begin() as conn:
        create_strategy_tables(conn)
    names = set(inspect(store.engine).get_table_names())
    assert {"strategy_plan", "strategy_tranche"} <= names
    store.close()


def test_plan_and_tranches_round_trip_exactly_across_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    store = Store.open(url)
    create_strategy_tables(store.engine)
    p = params(budget=Decimal("1000.123456789"), tranches=3)
    plan, tranches = new_plan("BTC/USDT", "core", 2, p.budget, Decimal("91234.56"), "easing", T0, p)
    StrategyRepo(store.engine).insert_plan(plan, tranches)
    changed = replace(
        tranches[1],
        status=TrancheStatus.ORDERED,
        attempt=2,
        order_type=OrderType.MARKET,
        order_at=T0 + timedelta(days=7),
        filled_base=Decimal("0.00012345"),
        filled_quote=Decimal("11.2633007"),
        pulled_forward=True,
        hold_reason="FOMC in 3.0 h",
    )
    closed = replace(plan, status=PlanStatus.CLOSED, realized_pnl=Decimal("-3.14"))
    StrategyRepo(store.engine).save(closed, [changed])
    store.close()

    again = Store.open(url)
    repo = StrategyRepo(again.engine)
    assert repo.plan(plan.plan_id) == closed
    assert repo.tranches(plan.plan_id) == (tranches[0], changed, tranches[2])
    assert repo.tranches(plan.plan_id)[1].order_at.tzinfo is not None  # type: ignore[union-attr]
    assert repo.current_plan("BTC/USDT") is None and repo.latest_plan("BTC/USDT") == closed
    again.close()
