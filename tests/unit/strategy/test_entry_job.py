"""The entry job on the paper venue: placing, gates holding and sliding, repricing, flushes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.orders.intents import IntentStatus
from bot.strategy.inputs import FlushView
from bot.strategy.params import AntiChaseAction
from bot.strategy.plans import PlanStatus, TrancheStatus
from exchanges.base import OrderType
from tests.unit.strategy.kit import (
    DAY,
    HOUR,
    START,
    causes,
    make_bench,
    params,
    regime,
    run,
    run_until,
)


def test_first_run_starts_a_plan_and_places_tranche_one_below_the_bid(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    run(bench.tick())
    (plan,) = bench.plans()
    assert plan.status is PlanStatus.ACTIVE and plan.cycle == 1
    assert plan.budget == Decimal(1000) and plan.start_price == Decimal("100.00")
    (order,) = bench.buys()
    assert order.type is OrderType.LIMIT and order.price == Decimal("99.80")
    assert order.amount == Decimal("2.50250")  # 250 / (99.80 * 1.001 fee), stepped down
    assert order.cause == f"plan:{plan.plan_id}|tranche:1"
    first = bench.tranches()[0]
    assert first.status is TrancheStatus.ORDERED and first.order_at == START
    kinds = [e.kind for e in bench.journal()]
    assert kinds.index("plan_started") < kinds.index("tranche_placed")
    bench.close()


def test_without_signals_no_plan_starts_and_the_wait_is_journaled_once(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, regime_name=None)

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + DAY)

    run(scenario())
    assert bench.plans() == [] and bench.buys() == []
    waits = bench.journal("plan_waiting")
    assert len(waits) == 1 and "regime" in waits[0].message
    bench.close()


def test_market_tranches_go_out_on_schedule_once_each(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 22 * DAY)

    run(scenario())
    plan = bench.plans()[0]
    tranches = bench.tranches()
    assert [t.status for t in tranches] == [TrancheStatus.FILLED] * 4
    assert [t.first_placed_at - START for t in tranches] == [  # type: ignore[operator]
        timedelta(0),
        7 * DAY,
        14 * DAY,
        21 * DAY,
    ]
    assert causes(bench) == [f"plan:{plan.plan_id}|tranche:{n}" for n in (1, 2, 3, 4)]
    assert bench.plans()[0].status is PlanStatus.COMPLETE
    assert sum(t.filled_quote for t in tranches) <= Decimal(1000)
    bench.close()


def test_unfilled_limit_is_repriced_then_converted_to_market(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(max_reprices=1, reprice_after_hours=24))

    async def scenario() -> None:
        await bench.tick()  # limit at 99.80
        bench.set_price("BTC/USDT", "102")  # the market walks away
        await run_until(bench, START + 24 * HOUR, step=HOUR)  # timeout: reprice at 101.79
        await run_until(bench, START + 47 * HOUR, step=HOUR)
        assert len(bench.buys()) == 2
        await run_until(bench, START + 48 * HOUR, step=HOUR)  # second timeout: market

    run(scenario())
    plan = bench.plans()[0]
    first = f"plan:{plan.plan_id}|tranche:1"
    assert causes(bench) == [first, f"{first}|r1", f"{first}|r2"]
    orders = bench.buys()
    assert [o.status for o in orders] == [
        IntentStatus.CANCELED,
        IntentStatus.CANCELED,
        IntentStatus.CLOSED,
    ]
    assert [o.price for o in orders] == [Decimal("99.80"), Decimal("101.79"), None]
    assert [o.type for o in orders][-1] is OrderType.MARKET
    tranche = bench.tranches()[0]
    assert tranche.status is TrancheStatus.FILLED and tranche.attempt == 2
    assert tranche.filled_base == orders[-1].filled
    kinds = [e.kind for e in bench.journal()]
    assert kinds.count("tranche_repriced") == 1 and kinds.count("tranche_to_market") == 1
    bench.close()


def test_a_part_filled_limit_is_repriced_for_the_rest_only(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(max_reprices=2))

    async def scenario() -> None:
        await bench.tick()  # limit 2.50250 at 99.80
        # One BTC offered at the limit: the resting order fills 1 of 2.5025.
        bench.set_price("BTC/USDT", "99.79", depth="1")
        await run_until(bench, START + HOUR, step=HOUR)
        bench.set_price("BTC/USDT", "100")
        await run_until(bench, START + 25 * HOUR, step=HOUR)

    run(scenario())
    first, second = bench.buys()
    assert first.status is IntentStatus.CANCELED and first.filled == Decimal(1)
    remaining = Decimal(250) - Decimal("99.80")
    assert second.price == Decimal("99.80")
    assert second.amount * second.price <= remaining  # only what the first left unspent
    assert second.amount == Decimal("1.50350")  # 150.2 / (99.80 * 1.001), stepped down
    bench.close()


def test_a_flush_pulls_the_next_tranche_forward_once_per_flush(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET, flush_pull_forward=1))
    bench.signals.flushes.append(
        FlushView(START - HOUR, "BTC/USDT", "before the plan: ignored", 1e9)
    )

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 2 * DAY)
        assert len(bench.buys()) == 1
        bench.signals.flushes.append(FlushView(bench.now, "BTC/USDT", "longs flushed", 6e8))
        await run_until(bench, START + 2 * DAY + 12 * HOUR)  # active for 72 h: counted once
        assert len(bench.buys()) == 2
        await run_until(bench, START + 5 * DAY)
        bench.signals.flushes.append(FlushView(bench.now, "BTC/USDT", "another flush", 7e8))
        await run_until(bench, START + 22 * DAY)

    run(scenario())
    tranches = bench.tranches()
    placed = [t.first_placed_at for t in tranches]
    # Each flush is seen by the next run, 6 h after it was recorded.
    assert placed == [
        START,
        START + 2 * DAY + 6 * HOUR,
        START + 5 * DAY + 6 * HOUR,
        START + 21 * DAY,
    ]
    assert [t.pulled_forward for t in tranches] == [False, True, True, False]
    assert len(bench.buys()) == 4 and sum(t.quote_amount for t in tranches) == Decimal(1000)
    assert len(bench.journal("flush_pull_forward")) == 2
    bench.close()


def test_no_tranche_in_the_fomc_blackout_and_the_plan_slides(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET, fomc_blackout_hours=24))
    decision = START + 7 * DAY + 10 * HOUR
    bench.signals.fomc.append(decision)

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, decision - HOUR, step=HOUR)
        assert len(bench.buys()) == 1  # tranche 2 was due at day 7 but held
        await run_until(bench, decision + HOUR, step=HOUR)
        assert len(bench.buys()) == 2

    run(scenario())
    tranches = bench.tranches()
    assert tranches[1].first_placed_at == decision
    assert tranches[2].scheduled_at == START + 14 * DAY + 10 * HOUR  # slid by the 10 h hold
    (held,) = bench.journal("tranche_held")
    assert "FOMC" in held.message and held.data["gate"] == "fomc"
    bench.close()


def test_tightening_pauses_tranches_until_the_regime_eases(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))
    bench.signals.set_regime(START + 5 * DAY, regime("tightening", START + 5 * DAY))
    bench.signals.set_regime(START + 12 * DAY, regime("easing", START + 12 * DAY))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 12 * DAY, step=12 * HOUR)

    run(scenario())
    tranches = bench.tranches()
    assert tranches[1].first_placed_at == START + 12 * DAY  # due day 7, paused until day 12
    assert tranches[2].scheduled_at == START + 19 * DAY  # the schedule moved by 5 days
    assert "tightening" in bench.journal("tranche_held")[0].message
    bench.close()


def test_anti_chase_delays_until_the_price_cools_then_places(tmp_path: Path) -> None:
    strategy = params(order_type=OrderType.MARKET, anti_chase_pct=Decimal("0.10"))
    bench = make_bench(tmp_path, strategy)
    for day in range(1, 31):
        bench.history.record("BTC/USDT", (START - day * DAY).date(), Decimal(90))

    async def scenario() -> None:
        await bench.tick()  # 100 vs average 90: 11 % above -> held
        assert bench.buys() == []
        await run_until(bench, START + DAY)
        bench.set_price("BTC/USDT", "98")  # 8.9 % above: goes
        await run_until(bench, START + DAY + 6 * HOUR)

    run(scenario())
    assert bench.tranches()[0].first_placed_at == START + DAY + 6 * HOUR
    assert len(bench.buys()) == 1
    assert "not chasing" in bench.journal("tranche_held")[0].message
    bench.close()


@pytest.mark.parametrize(
    ("mode", "skipped_after"),
    [
        pytest.param(AntiChaseAction.DELAY, 2 * DAY, id="delay_expires_after_max_delay"),
        pytest.param(AntiChaseAction.SKIP, 0 * DAY, id="skip_mode_skips_at_once"),
    ],
)
def test_anti_chase_gives_the_tranche_up(
    tmp_path: Path, mode: AntiChaseAction, skipped_after: timedelta
) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        anti_chase_pct=Decimal("0.05"),
        anti_chase_action=mode,
        anti_chase_max_delay_days=2.0,
    )
    bench = make_bench(tmp_path, strategy)
    for day in range(1, 21):
        bench.history.record("BTC/USDT", (START - day * DAY).date(), Decimal(80))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 3 * DAY)

    run(scenario())
    first = bench.tranches()[0]
    assert first.status is TrancheStatus.SKIPPED and first.done_at == START + skipped_after
    assert bench.tranches()[1].status is TrancheStatus.PENDING  # the next one is not touched
    assert bench.buys() == []
    assert "budget is not spent" in bench.journal("tranche_skipped")[0].message
    bench.close()


def test_risk_limits_clip_then_hold_tranches(tmp_path: Path) -> None:
    # Equity 10 000, max 6 % in one asset: 600 of the 1000 plan fit.
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET), max_asset_pct=6)

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 23 * DAY, step=12 * HOUR)

    run(scenario())
    t1, t2, t3, t4 = bench.tranches()
    assert t1.status is TrancheStatus.FILLED and t2.status is TrancheStatus.FILLED
    assert t3.status is TrancheStatus.FILLED and t3.filled_quote < Decimal(110)  # clipped
    assert t4.status is TrancheStatus.PENDING and t4.hold_gate == "risk"
    placed = bench.journal("tranche_placed")[2]
    assert "clipped" in placed.message and "max 6%" in placed.message
    (held,) = bench.journal("tranche_held")
    assert "tranche 4" in held.message and "risk limits" in held.message
    bench.close()


def test_stored_risk_block_holds_tranches(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))
    bench.ctx.store.set_value("risk.entries_blocked", '["kill switch: drawdown"]', START)
    run(bench.tick(risk=False))
    assert bench.buys() == []
    assert bench.tranches()[0].hold_gate == "risk"
    assert "kill switch" in bench.journal("tranche_held")[0].message
    bench.close()
