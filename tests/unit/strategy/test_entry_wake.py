"""The entry job's wake-up: when its decisions may next differ if nothing else changes.

The backtest skips scheduled runs before it (`bot.backtest.quiet_runs`), so it must never be
later than the next thing the job would do on its own: a resting limit's reprice time, the
next tranche's due time, the price-dependent gates (the next run).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.jobs.entry.job import entry_pass
from bot.strategy.plans import TrancheStatus
from exchanges.base import OrderType
from tests.unit.strategy.kit import DAY, HOUR, START, make_bench, params, run


def test_a_resting_limit_wakes_the_job_at_its_reprice_time(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    run(entry_pass(bench.ctx, bench.now))  # starts the plan: a change, so no skipping after
    first = bench.tranches()[0]
    assert first.status is TrancheStatus.ORDERED and first.order_type is OrderType.LIMIT
    bench.advance(HOUR)
    wake = run(entry_pass(bench.ctx, bench.now))
    assert wake == START + 24 * HOUR  # reprice_after_hours, before tranche 2 is due
    bench.close()


def test_after_a_market_tranche_the_job_wakes_when_the_next_one_is_due(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, params(order_type=OrderType.MARKET))
    run(entry_pass(bench.ctx, bench.now))
    tranches = bench.tranches()
    assert tranches[0].status is TrancheStatus.FILLED and tranches[1].scheduled_at > START
    bench.advance(HOUR)
    assert run(entry_pass(bench.ctx, bench.now)) == tranches[1].scheduled_at
    bench.close()


def test_a_regime_wait_has_no_wake_of_its_own(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, regime_name="tightening")
    assert run(entry_pass(bench.ctx, bench.now)) is None  # the regime signal wakes it
    assert bench.plans() == []
    bench.close()


def test_an_anti_chase_hold_looks_again_at_the_next_run(tmp_path: Path) -> None:
    strategy = params(anti_chase_pct=Decimal("0.05"), order_type=OrderType.MARKET)
    bench = make_bench(tmp_path, strategy)
    for day in range(1, 21):
        bench.history.record("BTC/USDT", (START - day * DAY).date(), Decimal(80))
    run(entry_pass(bench.ctx, bench.now))
    bench.advance(HOUR)
    wake = run(entry_pass(bench.ctx, bench.now))
    assert bench.tranches()[0].hold_gate == "anti_chase"
    assert wake == bench.now  # the price decides, so the next run looks again
    bench.close()
