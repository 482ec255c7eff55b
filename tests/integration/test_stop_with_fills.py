"""The exchange stop is placed in the job run that records the fill that opened or grew the
position (issue #20 item 5), over real HTTP against the emulator: the entry job's market
tranche, a limit tranche whose fill the reconcile job records, a second buy growing the
position. Before, the first stop waited for the next risk tick (up to ~1.6 ticks)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from bot.jobs.entry.job import entry_job
from bot.jobs.venue import reconcile
from bot.orders.intents import IntentStatus, OrderIntent
from bot.strategy.inputs import RegimeView, StaticSignals
from bot.strategy.params import StrategyParams
from exchanges.base import OrderType, Side
from tests.emulator import EmulatorHandle
from tests.integration.stop_bench import BTC, StopBench, run

D = Decimal
SINCE = datetime(2020, 1, 1, tzinfo=UTC)


def _easing() -> StaticSignals:
    signals = StaticSignals()
    signals.set_regime(SINCE, RegimeView("easing", SINCE, SINCE, "test"))
    return signals


def _kinds_at(bench: StopBench, at: datetime) -> list[str]:
    return [e.kind for e in reversed(bench.ctx.store.recent_journal(100)) if e.at == at]


def test_the_entry_jobs_market_tranche_gets_its_stop_in_the_same_run(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    strategy = StrategyParams(
        budget=D("2000"),
        allocation=((BTC, D(1)),),
        order_type=OrderType.MARKET,
        anti_chase_pct=None,
        fomc_blackout_hours=0.0,
    )

    async def scenario(bench: StopBench) -> None:
        run_at = bench.later(1)

        await entry_job(bench.ctx, run_at)  # the first job of a fresh daemon: no risk tick yet

        (tranche,) = [r for r in bench.orders.repo.all(BTC) if r.kind == "tranche"]
        assert tranche.status is IntentStatus.CLOSED
        (stop,) = bench.stops()
        held = bench.orders.position(BTC).size.quantize(D("0.00001"), ROUND_DOWN)  # lot step
        assert (stop.status, stop.amount, stop.created_at) == (IntentStatus.OPEN, held, run_at)
        assert [s["clientOrderId"] for s in bench.venue_stops()] == [stop.client_order_id]
        kinds = _kinds_at(bench, run_at)
        assert kinds.index("fill") < kinds.index("exchange_stop_placed")

    run(tmp_path, emulator, scenario, signals=_easing(), strategy=strategy)


def test_a_limit_fill_recorded_by_the_reconcile_job_is_protected_in_that_run(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.tick()
        await bench.orders.submit(
            OrderIntent(
                cause="plan:p1|tranche:1",
                kind="tranche",
                symbol=BTC,
                side=Side.BUY,
                type=OrderType.LIMIT,
                amount=D("0.1"),
                price=D("49000"),
                reason="test limit tranche",
            ),
            bench.now,
        )
        await bench.market("48900")  # the limit fills at the venue between two runs
        assert bench.stops() == []
        run_at = bench.later(5)

        await reconcile(bench.ctx, run_at)

        (stop,) = bench.stops()
        assert (stop.status, stop.amount, stop.created_at) == (
            IntentStatus.OPEN,
            D("0.0999"),
            run_at,
        )
        assert len(bench.venue_stops()) == 1

    run(tmp_path, emulator, scenario)


def test_a_reconcile_gives_a_position_it_finds_without_a_stop_its_stop(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        (first,) = bench.stops()
        bench.cancel_by_hand(first.client_order_id)  # while no daemon runs
        run_at = bench.later(5)

        await reconcile(bench.ctx, run_at)  # as at start-up, before the daemon reports ready

        old, new = bench.stops()
        assert old.status is IntentStatus.CANCELED
        assert (new.status, new.created_at) == (IntentStatus.OPEN, run_at)
        assert [s["clientOrderId"] for s in bench.venue_stops()] == [new.client_order_id]

    run(tmp_path, emulator, scenario)


def test_a_second_buy_resizes_the_stop_at_once(tmp_path: Path, emulator: EmulatorHandle) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.tick()
        await bench.buy("0.1")
        (first,) = bench.stops()
        bench.later(5)  # well inside the move limit: a size change is not rate-limited

        await bench.buy("0.05", cause="plan:p1|tranche:2")

        resting = [s for s in bench.stops() if s.status is IntentStatus.OPEN]
        assert [s.amount for s in resting] == [D("0.14985")]
        assert [s["origQty"] for s in bench.venue_stops()] == ["0.14985000"]
        assert resting[0].client_order_id != first.client_order_id
        assert bench.sent_twice() == []

    run(tmp_path, emulator, scenario)


def test_no_stop_is_placed_for_fills_when_the_exchange_stop_is_off(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.tick()
        await bench.buy("0.1")
        await asyncio.sleep(0)
        assert bench.stops() == [] and bench.venue_stops() == []

    run(tmp_path, emulator, scenario, exchange_stop=False)
