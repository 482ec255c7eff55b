"""Entry decisions on hand-built prices through the real jobs (paper venue, order manager):
no buying into a take-profit, tranches sized to the venue minimum, a flush waiving the
post-exit cool-down, alts following BTC's plan of the current regime episode."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.signals.regime_types import Regime
from bot.strategy.inputs import FlushView, RegimeView
from bot.strategy.plans import PlanStatus
from exchanges.base import OrderType
from risk.marks import PositionMarks
from tests.unit.strategy.kit import DAY, HOUR, START, make_bench, params, run, run_until

# --- no buying into a take-profit ------------------------------------------------------------


def test_a_tier_sale_cancels_the_rest_of_the_plan_and_its_resting_order(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)  # limit tranches, 4 over 21 days, 1000 USDT

    async def scenario() -> None:
        await bench.tick()  # tranche 1: limit 0.2 % below the bid, resting
        bench.set_price("BTC/USDT", "99")
        await run_until(bench, START + 6 * HOUR)  # tranche 1 fills
        bench.set_price("BTC/USDT", "100")
        await run_until(bench, START + 7 * DAY)  # tranche 2 placed, resting at 99.8
        bench.set_price("BTC/USDT", "121")  # +21 %: the risk job sells tier 1
        await run_until(bench, START + 7 * DAY + 12 * HOUR)
        await run_until(bench, START + 30 * DAY, step=DAY)

    run(scenario())
    (plan,) = bench.plans()
    assert plan.status is PlanStatus.COMPLETE
    assert [t.status.value for t in bench.tranches()] == [
        "filled",
        "canceled",
        "canceled",
        "canceled",
    ]
    _, second = bench.buys()  # tranche 3 and 4 never sent
    assert second.cause.endswith("tranche:2") and second.status.value == "canceled"
    assert second.filled == 0
    (line,) = bench.journal("tranches_cancelled")
    assert line.message.startswith("BTC/USDT tranches 2-4 cancelled: tier 1 sold at 121")
    assert line.message.endswith("in this cycle; no buying back above a sale")
    assert line.data["canceled"] == [2, 3, 4] and line.data["tiers"] == [1]
    bench.close()


def test_a_tier_the_venue_could_not_take_also_ends_the_entries(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))

    async def scenario() -> None:
        await bench.tick()  # tranche 1 bought at market
        position = bench.orders.position("BTC/USDT")
        assert position.cycle_id is not None
        skipped = PositionMarks(position.cycle_id, Decimal(121), tiers_skipped=frozenset({1}))
        bench.orders.repo.save_marks({"BTC/USDT": skipped}, bench.now)
        bench.advance(7 * DAY)
        await bench.tick(risk=False)

    run(scenario())
    assert [t.status.value for t in bench.tranches()] == [
        "filled",
        "canceled",
        "canceled",
        "canceled",
    ]
    (line,) = bench.journal("tranches_cancelled")
    assert "tier 1 skipped (the venue could not take it) in this cycle" in line.message
    assert len(bench.buys()) == 1
    bench.close()


def test_without_a_tier_the_plan_buys_every_tranche(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))

    async def scenario() -> None:
        await bench.tick()
        bench.set_price("BTC/USDT", "115")  # below tier 1 (+20 %)
        await run_until(bench, START + 22 * DAY, step=DAY)

    run(scenario())
    assert [t.status.value for t in bench.tranches()] == ["filled"] * 4
    assert bench.journal("tranches_cancelled") == []
    bench.close()


# --- tranches sized to the venue minimum -------------------------------------------------------


def test_a_small_budget_gets_fewer_larger_tranches_and_says_why(tmp_path: Path) -> None:
    # 20 USDT / 4 = 5 USDT a tranche, below 5 USDT min cost x 1.25 = 6.25: 3 tranches of 6.67
    bench = make_bench(tmp_path, params(budget=Decimal(20), order_type=OrderType.MARKET))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 22 * DAY, step=DAY)

    run(scenario())
    tranches = bench.tranches()
    assert [t.quote_amount for t in tranches] == [
        Decimal("6.66666666"),
        Decimal("6.66666666"),
        Decimal("6.66666668"),
    ]
    assert [t.planned_at for t in tranches] == [START, START + 10.5 * DAY, START + 21 * DAY]
    assert [t.status.value for t in tranches] == ["filled"] * 3  # each cleared the minimum
    (started,) = bench.journal("plan_started")
    assert "3 tranches instead of 4: 4 of 5.00 USDT would be below the venue minimum per " in (
        started.message
    )
    assert "6.25 USDT (min cost 5 USDT" in started.message
    assert started.data["tranches"] == 3
    bench.close()


def test_a_budget_below_one_tranche_starts_no_plan_and_says_so_once(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(budget=Decimal(6), order_type=OrderType.MARKET))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 2 * DAY)

    run(scenario())
    assert bench.plans() == [] and bench.buys() == []
    (wait,) = bench.journal("plan_waiting")
    assert wait.data["gate"] == "minimum"
    assert wait.message.startswith("BTC/USDT: budget 6.00 USDT is below the venue minimum ")
    assert "6.25 USDT" in wait.message and wait.message.endswith("no plan starts")
    bench.close()


# --- a flush waives the post-exit cool-down ----------------------------------------------------


@pytest.mark.parametrize(
    ("flush_hours_after_exit", "waives", "starts"),
    [
        pytest.param(2, True, True, id="flush_after_the_stop_out_buys_it"),
        pytest.param(-2, True, False, id="flush_before_the_stop_out_waives_nothing"),
        pytest.param(2, False, False, id="setting_off_keeps_the_cool_down"),
    ],
)
def test_a_flush_after_a_stop_out_waives_the_cool_down(
    tmp_path: Path, flush_hours_after_exit: float, waives: bool, starts: bool
) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        tranches=1,
        cycle_cooldown_days=7.0,
        flush_waives_cooldown=waives,
    )
    bench = make_bench(tmp_path, strategy)
    exited: list[datetime] = []

    async def scenario() -> None:
        await bench.tick()  # ~1000 USDT of BTC at 100
        bench.advance(DAY)
        bench.set_price("BTC/USDT", "75")  # the hard stop (20 %) sells everything
        await bench.tick()
        exited.append(bench.now)
        await run_until(bench, bench.now + 6 * HOUR)  # the entry job closes the cycle
        flush_at = exited[0] + flush_hours_after_exit * HOUR
        bench.signals.flushes.append(FlushView(flush_at, "BTC/USDT", "cascade", 286.4e6))
        await run_until(bench, bench.now + 6 * HOUR)

    run(scenario())
    plans = bench.plans()
    assert plans[0].status is PlanStatus.CLOSED
    if starts:
        assert len(plans) == 2 and plans[1].created_at < plans[0].closed_at + 7 * DAY  # type: ignore[operator]
        started = bench.journal("plan_started")[-1]
        assert "cool-down waived: liquidation flush at " in started.message
        assert "286.4M USD of longs" in started.message and "after cycle 1 exited" in (
            started.message
        )
        assert len([b for b in bench.buys() if b.status.value == "closed"]) == 2
    else:
        assert len(plans) == 1
        (wait,) = bench.journal("plan_waiting")
        assert wait.data["gate"] == "cooldown"
    bench.close()


# --- alts follow BTC's plan of the current regime episode --------------------------------------


def _regime(
    name: Regime, at_days: float, pivot_days: float, *spans: tuple[float, Regime]
) -> RegimeView:
    periods = tuple((START + d * DAY, r) for d, r in spans)
    return RegimeView(name, START + at_days * DAY, START + pivot_days * DAY, "test", periods)


def test_alts_wait_for_btcs_plan_of_the_new_episode_not_the_old_one(tmp_path: Path) -> None:
    """Easing, then 90 days of tightening with BTC held, then a pivot: the old BTC plan (100
    days old) used to release the alt on the pivot day."""
    strategy = params(
        order_type=OrderType.MARKET,
        tranches=1,
        allocation=(("BTC/USDT", Decimal("0.7")), ("SOL/USDT", Decimal("0.3"))),
        alt_cap=Decimal("0.3"),
        alt_lag_gain=Decimal("0.10"),
        alt_lag_days=30.0,
        cycle_cooldown_days=7.0,
    )
    bench = make_bench(tmp_path, strategy, prices={"BTC/USDT": "100", "SOL/USDT": "20"})
    easing, tightening, neutral = Regime.EASING, Regime.TIGHTENING, Regime.NEUTRAL
    history: list[tuple[float, Regime]] = [(-400, tightening), (-30, easing)]
    bench.signals.regimes.clear()
    bench.signals.set_regime(START - 30 * DAY, _regime(easing, -30, -30, *history))
    history.append((10, tightening))
    bench.signals.set_regime(START + 10 * DAY, _regime(tightening, 10, -30, *history))
    history.append((100, neutral))
    bench.signals.set_regime(START + 100 * DAY, _regime(neutral, 100, 100, *history))

    async def scenario() -> None:
        await bench.tick()  # BTC cycle 1 bought; SOL waits 30 days, then tightening holds it
        await run_until(bench, START + 101 * DAY, step=DAY)
        assert [p.symbol for p in bench.plans()] == ["BTC/USDT"]
        bench.set_price("BTC/USDT", "75")  # BTC's old cycle stops out
        await run_until(bench, START + 110 * DAY, step=DAY)  # cool-down, then BTC cycle 2
        assert [p.symbol for p in bench.plans()] == ["BTC/USDT", "BTC/USDT"]
        bench.set_price("BTC/USDT", "83")  # +10.7 % over cycle 2's start
        await run_until(bench, START + 111 * DAY, step=DAY)

    run(scenario())
    btc1, btc2, sol = bench.plans()
    assert sol.symbol == "SOL/USDT" and sol.created_at == START + 111 * DAY
    waits = [w.message for w in bench.journal("plan_waiting") if w.symbol == "SOL/USDT"]
    at_pivot = next(w for w in waits if "plan of this regime episode" in w)
    assert f"since {START + 100 * DAY:%Y-%m-%d}" in at_pivot
    assert f"its latest plan {btc1.plan_id}" in at_pivot and "earlier episode" in at_pivot
    started = bench.journal("plan_started")[-1]
    assert f"alts follow BTC/USDT plan {btc2.plan_id} (cycle 2" in started.message
    bench.close()
