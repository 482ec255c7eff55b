"""Restarts resume the schedule exactly: no tranche skipped, none placed twice.

Each test leaves the database in the state a crash at one point would leave, then builds
every object anew from the file (`Bench.restart`) and runs the job again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from bot.orders.intents import IntentStatus, OrderIntent
from bot.strategy.plans import TrancheStatus
from exchanges.base import OrderType, Side
from tests.unit.strategy.kit import DAY, HOUR, START, causes, make_bench, params, run, run_until


def test_restart_mid_plan_resumes_without_skipping_or_repeating(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))

    async def before() -> None:
        await bench.tick()
        await run_until(bench, START + 8 * DAY)

    run(before())
    assert [t.status for t in bench.tranches()][:3] == [
        TrancheStatus.FILLED,
        TrancheStatus.FILLED,
        TrancheStatus.PENDING,
    ]
    bench.restart()  # new store handle, order manager, venue object, context

    async def after() -> None:
        await bench.tick()  # a restart run at the same time places nothing new
        assert len(bench.buys()) == 2
        await run_until(bench, START + 22 * DAY)

    run(after())
    plan = bench.plans()[0]
    assert Counter(causes(bench)) == Counter(
        {f"plan:{plan.plan_id}|tranche:{n}": 1 for n in (1, 2, 3, 4)}
    )
    assert [t.first_placed_at - START for t in bench.tranches()] == [  # type: ignore[operator]
        0 * DAY,
        7 * DAY,
        14 * DAY,
        21 * DAY,
    ]
    bench.close()


def test_crash_after_the_tranche_was_written_but_before_its_order(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))
    run(bench.tick())
    plan = bench.plans()[0]
    second = bench.tranches()[1]
    # What a crash between "tranche 2 ordered" and orders.submit leaves behind.
    bench.repo.save(
        tranches=[replace(second, status=TrancheStatus.ORDERED, order_at=START + 7 * DAY)]
    )
    bench.restart()
    bench.advance(7 * DAY + HOUR)
    run(bench.tick())
    run(bench.tick())
    assert causes(bench).count(f"plan:{plan.plan_id}|tranche:2") == 1
    assert bench.tranches()[1].status is TrancheStatus.FILLED
    bench.close()


def test_crash_after_the_order_but_before_the_tranche_update_adopts_it(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))
    run(bench.tick())
    plan = bench.plans()[0]
    cause = f"plan:{plan.plan_id}|tranche:2"
    bench.advance(7 * DAY)
    # The order went out, the tranche row still says pending (an older build wrote it later).
    run(
        bench.orders.submit(
            OrderIntent(
                cause, "tranche", "BTC/USDT", Side.BUY, OrderType.MARKET, Decimal(1), "test"
            ),
            bench.now,
        )
    )
    bench.restart()
    # A gate that would hold a new tranche now must not strand the order already out.
    bench.ctx.store.set_value("risk.entries_blocked", '["risk-off flag set"]', bench.now)
    run(bench.tick(risk=False))
    assert causes(bench).count(cause) == 1
    assert bench.tranches()[1].status is TrancheStatus.FILLED
    assert bench.tranches()[1].filled_base == Decimal(1)
    bench.close()


def test_crash_after_a_reprice_cancel_moves_on_to_the_next_attempt(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(max_reprices=2))
    run(bench.tick())  # tranche 1: limit at 99.80, not filled
    (order,) = bench.buys()
    bench.advance(24 * HOUR)
    run(bench.orders.cancel(order, bench.now))  # the cancel happened, then the crash
    bench.restart()
    bench.set_price("BTC/USDT", "101")
    run(bench.tick())
    run(bench.tick())
    plan = bench.plans()[0]
    first = f"plan:{plan.plan_id}|tranche:1"
    assert causes(bench) == [first, f"{first}|r1"]
    assert [o.status for o in bench.buys()] == [IntentStatus.CANCELED, IntentStatus.OPEN]
    assert bench.buys()[1].price == Decimal("100.79")
    assert len(bench.journal("tranche_repriced")) == 1
    bench.close()
