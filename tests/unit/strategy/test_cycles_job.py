"""Alts follow BTC; a closed cycle restarts after its cool-down with a compounding budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.strategy.params import BudgetMode
from bot.strategy.plans import PlanStatus
from exchanges.base import OrderType
from tests.unit.strategy.kit import DAY, HOUR, START, make_bench, params, run, run_until


def test_alt_plan_starts_only_after_btc_gained_the_configured_share(tmp_path: Path) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        allocation=(("BTC/USDT", Decimal("0.7")), ("SOL/USDT", Decimal("0.3"))),
        alt_cap=Decimal("0.2"),
        alt_lag_gain=Decimal("0.10"),
        alt_lag_days=30.0,
    )
    bench = make_bench(tmp_path, strategy, prices={"BTC/USDT": "100", "SOL/USDT": "20"})

    async def scenario() -> None:
        await bench.tick()
        bench.set_price("BTC/USDT", "105")
        await run_until(bench, START + 3 * DAY)
        assert [p.symbol for p in bench.plans()] == ["BTC/USDT"]
        bench.set_price("BTC/USDT", "110.5")
        await run_until(bench, START + 3 * DAY + 6 * HOUR)

    run(scenario())
    btc, sol = bench.plans()
    assert btc.symbol == "BTC/USDT" and sol.symbol == "SOL/USDT" and sol.kind == "alt"
    assert sol.created_at == START + 3 * DAY + 6 * HOUR
    assert sol.budget == Decimal(200)  # 30 % weight scaled to the 20 % alt cap; 100 unspent
    (wait,) = bench.journal("plan_waiting")  # journaled once, not every run
    assert "alts lag BTC/USDT" in wait.message and wait.data["gate"] == "alt_lag"
    bench.close()


def test_alt_plan_starts_after_the_lag_days_even_if_btc_is_flat(tmp_path: Path) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        allocation=(("BTC/USDT", Decimal("0.7")), ("SOL/USDT", Decimal("0.3"))),
        alt_lag_gain=Decimal("0.10"),
        alt_lag_days=30.0,
        tranches=1,
    )
    bench = make_bench(tmp_path, strategy, prices={"BTC/USDT": "100", "SOL/USDT": "20"})

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 30 * DAY, step=DAY)

    run(scenario())
    assert [(p.symbol, p.created_at) for p in bench.plans()] == [
        ("BTC/USDT", START),
        ("SOL/USDT", START + 30 * DAY),
    ]
    bench.close()


def test_cycle_restarts_after_cool_down_with_a_compounded_budget(tmp_path: Path) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        tranches=1,
        cycle_cooldown_days=7.0,
        budget_mode=BudgetMode.COMPOUNDING,
    )
    bench = make_bench(tmp_path, strategy)

    async def scenario() -> None:
        await bench.tick()  # buys ~1000 USDT of BTC at 100.01
        for price in ("121", "151", "160", "135"):  # tier 1, tier 2, high, trailing stop
            bench.set_price("BTC/USDT", price)
            await run_until(bench, bench.now + DAY)
        closed_at = bench.plans()[0].closed_at
        assert closed_at is not None
        await run_until(bench, closed_at + 7 * DAY - HOUR)
        assert len(bench.plans()) == 1  # cooling down
        await run_until(bench, closed_at + 7 * DAY, step=HOUR)

    run(scenario())
    first, second = bench.plans()
    assert first.status is PlanStatus.CLOSED and first.realized_pnl is not None
    assert first.realized_pnl > Decimal(350)  # 25 % at +21 %, 25 % at +51 %, 50 % at +35 %
    assert second.cycle == 2 and second.status is PlanStatus.COMPLETE
    assert second.budget == (Decimal(1000) + first.realized_pnl).quantize(Decimal("0.00000001"))
    assert second.created_at == first.closed_at + 7 * DAY  # type: ignore[operator]
    kinds = [
        e.kind
        for e in bench.journal()
        if e.kind.startswith(("plan_", "tranche_")) or e.kind in ("take_profit", "trailing_stop")
    ]
    assert kinds == [
        "plan_started",
        "tranche_placed",
        "tranche_filled",
        "plan_complete",
        "take_profit",
        "take_profit",
        "trailing_stop",
        "plan_closed",
        "plan_waiting",
        "plan_started",
        "tranche_placed",
        "tranche_filled",
        "plan_complete",
    ]
    closed = bench.journal("plan_closed")[0]
    assert "trailing_stop" in closed.message and closed.data["cycle"] == 1
    bench.close()


def test_a_stop_loss_mid_plan_ends_the_cycle_and_cancels_what_is_left(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET, cycle_cooldown_days=7.0))

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + 8 * DAY)  # tranches 1 and 2 bought
        bench.set_price("BTC/USDT", "75")  # -25 %: the hard stop (20 %) sells everything
        await run_until(bench, START + 9 * DAY)
        await run_until(bench, START + 15 * DAY)  # tranche 3's time passes: nothing bought

    run(scenario())
    (plan,) = bench.plans()
    assert plan.status is PlanStatus.CLOSED
    assert "stop_loss" in (plan.close_reason or "") and "before the plan finished" in (
        plan.close_reason or ""
    )
    assert [t.status.value for t in bench.tranches()] == [
        "filled",
        "filled",
        "canceled",
        "canceled",
    ]
    assert len(bench.buys()) == 2
    assert plan.realized_pnl is not None and plan.realized_pnl < 0
    bench.close()


def test_a_venue_error_for_one_symbol_is_journaled_once_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    strategy = params(
        order_type=OrderType.MARKET,
        allocation=(("SOL/USDT", Decimal("0.5")), ("BTC/USDT", Decimal("0.5"))),
        alt_cap=Decimal("0.5"),
        alt_lag_gain=None,
        alt_lag_days=None,
    )
    bench = make_bench(tmp_path, strategy)  # no SOL price yet: fetching it fails

    async def scenario() -> None:
        await bench.tick()
        await run_until(bench, START + DAY)
        bench.set_price("SOL/USDT", "20")
        await run_until(bench, START + DAY + 6 * HOUR)

    run(scenario())
    assert [p.symbol for p in bench.plans()] == ["BTC/USDT", "SOL/USDT"]
    (error,) = bench.journal("entry_error")
    assert "SOL/USDT" in error.message and error.level == "warning"
    assert len(bench.journal("entry_recovered")) == 1
    bench.close()
