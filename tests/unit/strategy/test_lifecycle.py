"""End to end on the real paper engine, order manager and risk job, on a simulated clock:
four limit tranches fill one by one, two take-profit tiers fire, the trailing stop exits the
rest, the plan closes, and the store holds every step of the cycle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from bot.ops.plan_progress import plan_status
from bot.orders.intents import IntentStatus
from bot.state.models import FillRow
from bot.strategy.plans import PlanStatus, TrancheStatus
from tests.unit.strategy.kit import DAY, HOUR, START, make_bench, params, run, run_until

# (time, BTC bid): the market around each tranche, then the rally and the fall.
PATH: list[tuple[datetime, str]] = [
    (START + 6 * HOUR, "99.70"),  # tranche 1 rests at 99.80: fills
    (START + 7 * DAY - HOUR, "97"),
    (START + 7 * DAY + 6 * HOUR, "96.50"),  # tranche 2 at 96.80: fills
    (START + 14 * DAY - HOUR, "95"),
    (START + 14 * DAY + 6 * HOUR, "94.50"),  # tranche 3 at 94.81: fills
    (START + 21 * DAY - HOUR, "98"),
    (START + 21 * DAY + 6 * HOUR, "97.50"),  # tranche 4 at 97.80: fills
    (START + 30 * DAY, "118"),  # +21 %: tier 1 sells 25 %
    (START + 40 * DAY, "147"),  # +51 %: tier 2 sells 25 %, trailing stop armed
    (START + 45 * DAY, "170"),  # high: stop ratchets to 144.50
    (START + 50 * DAY, "150"),  # above the stop: nothing
    (START + 52 * DAY, "140"),  # below: the rest goes
]
END = START + 53 * DAY


def test_plan_to_last_exit_on_the_paper_engine(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(reprice_after_hours=48))

    async def scenario() -> None:
        await bench.tick()
        for at, price in PATH:
            await run_until(bench, at - HOUR)
            bench.set_price("BTC/USDT", price)
            await run_until(bench, at)
        await run_until(bench, END, step=12 * HOUR)

    run(scenario())

    (plan,) = bench.plans()
    tranches = bench.tranches()
    assert plan.status is PlanStatus.CLOSED and "trailing_stop" in (plan.close_reason or "")
    assert [t.status for t in tranches] == [TrancheStatus.FILLED] * 4
    assert [t.attempt for t in tranches] == [0, 0, 0, 0]  # each filled at its first price
    assert [t.average_price for t in tranches] == [
        Decimal("99.80"),
        Decimal("96.80"),
        Decimal("94.81"),
        Decimal("97.80"),
    ]

    orders = bench.orders.repo.all()
    assert [(o.kind, o.status) for o in orders] == [
        ("tranche", IntentStatus.CLOSED),
        ("tranche", IntentStatus.CLOSED),
        ("tranche", IntentStatus.CLOSED),
        ("tranche", IntentStatus.CLOSED),
        ("take_profit", IntentStatus.CLOSED),
        ("take_profit", IntentStatus.CLOSED),
        ("trailing_stop", IntentStatus.CLOSED),
    ]
    bought = sum(t.filled_base for t in tranches)
    sold = sum(o.filled for o in orders if o.side.value == "sell")
    assert sold == bought and not bench.orders.position("BTC/USDT").is_open()
    with Session(bench.ctx.store.engine) as session:
        assert len(session.exec(select(FillRow)).all()) == 7

    proceeds = sum(o.filled * (o.average or 0) for o in orders if o.side.value == "sell")
    cost = sum(t.filled_quote for t in tranches)
    fees = sum(o.fee for o in orders)
    expected = proceeds - cost - fees  # ~ +40 % on ~1000 USDT
    assert plan.realized_pnl is not None and expected > Decimal(390)
    assert abs(plan.realized_pnl - expected) < Decimal("0.00000001")
    kinds = [
        e.kind
        for e in bench.journal(limit=1000)
        if e.kind.startswith(("plan_", "tranche_")) or e.kind in ("take_profit", "trailing_stop")
    ]
    assert kinds == [
        "plan_started",
        *["tranche_placed", "tranche_filled"] * 4,
        "plan_complete",
        "take_profit",
        "take_profit",
        "trailing_stop",
        "plan_closed",
        "plan_waiting",  # the cool-down before cycle 2
    ]
    (progress,) = plan_status(bench.repo, bench.now)
    assert progress.status is PlanStatus.CLOSED and progress.tranches_filled == 4
    assert progress.average_entry is not None
    assert Decimal("97.2") < progress.average_entry < Decimal("97.4")
    bench.close()
