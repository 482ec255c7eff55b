"""Exchange-resting stops under failure (issue #20), over real HTTP against the emulator: the
risk job, the order manager and the ccxt adapter the daemon uses, the exchange stop on.

- a 503 on the cancelReplace that shrinks the stop before tier 1: the tier is not sent while
  the stop holds the coins, waits (journaled), and sells on the next check with a fresh id;
- a sale the venue refuses for insufficient balance is retried, never skipped;
- a stop canceled at the venue by hand is re-placed within one tick and flagged by status;
- after the stop sells the position, status shows no dust position and no mismatch;
- the stop's move limit counts from its last move, not from lookups;
- an exit of everything whose stop cancel fails, and a panic sale refused because the stop
  still held the coins, are sent once the stop is gone, whatever the price does meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.orders.intents import IntentStatus, Refusal
from bot.state.runtime_state import RuntimeState
from tests.conftest import run_qtbot
from tests.daemon_process import wait_until
from tests.emulator import EmulatorHandle
from tests.integration.stop_bench import BTC, StopBench, run

D = Decimal
ORDER, REPLACE = "/api/v3/order", "/api/v3/order/cancelReplace"


def _tier_sales(bench: StopBench) -> list[tuple[str, IntentStatus, Refusal | None, Decimal]]:
    return [
        (r.client_order_id, r.status, r.refusal, r.filled)
        for r in bench.orders.repo.all(BTC)
        if r.kind == "take_profit"
    ]


def test_a_503_on_the_shrink_holds_the_tier_then_it_sells_on_the_next_check(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        assert [s["origQty"] for s in bench.venue_stops()] == ["0.09990000"]
        await bench.market("60500")  # +21 %: tier 1 (a quarter) is due
        emulator.add_fault("status", path=REPLACE, status=503, times=1)

        await bench.tick()

        # Not sent while the stop held the coins: no sale at the venue, the decision recorded.
        assert [o["type"] for o in bench.venue_sells()] == ["STOP_LOSS_LIMIT"]
        ((held_id, status, refusal, filled),) = _tier_sales(bench)
        assert (status, refusal, filled) == (IntentStatus.REJECTED, Refusal.HELD, 0)
        (wait,) = bench.journal("exit_waiting")
        assert wait.level == "warning"
        assert wait.message == (
            "BTC/USDT tier 1 waits: the exchange stop still holds 0.0999 BTC; the shrink is "
            "retried next check"
        )
        assert bench.orders.position(BTC).tiers_taken == frozenset()

        await bench.tick()

        sales = _tier_sales(bench)
        assert [(s, r) for _, s, r, _ in sales] == [
            (IntentStatus.REJECTED, Refusal.HELD),
            (IntentStatus.CLOSED, None),
        ]
        assert sales[1][0] != held_id and sales[1][3] == D("0.02497")
        assert bench.orders.position(BTC).tiers_taken == frozenset({1})
        assert [s["origQty"] for s in bench.venue_stops()] == ["0.07493000"]
        assert "exit_resumed" in [e.kind for e in bench.ctx.store.recent_journal(20)]
        assert bench.sent_twice() == []
        marks = bench.orders.repo.marks()[BTC]
        assert marks.tiers_skipped == frozenset()

    run(tmp_path, emulator, scenario)


def test_two_tiers_due_in_one_tick_both_sell_each_after_its_own_shrink(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        await bench.market("80000")  # +60 %: tiers 1 and 2 at once

        await bench.tick()

        assert [(s, f) for _, s, _, f in _tier_sales(bench)] == [
            (IntentStatus.CLOSED, D("0.02497")),
            (IntentStatus.CLOSED, D("0.02497")),
        ]
        assert [s["origQty"] for s in bench.venue_stops()] == ["0.04996000"]
        assert bench.journal("exit_waiting") == [] and bench.sent_twice() == []

    run(tmp_path, emulator, scenario)


def test_a_sale_refused_for_insufficient_balance_is_retried_once_the_base_is_free(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        await bench.market("60500")
        # The shrink succeeds; while the tier's sale is on its way, an account event (not the
        # daemon) takes the coins it freed, and the venue refuses the sale for the balance.
        emulator.add_fault("latency", method="POST", path=ORDER, delay=1.0)
        taken = asyncio.create_task(asyncio.to_thread(_take_free_btc_in_flight, emulator))

        await bench.tick()
        await taken

        ((_, status, refusal, _),) = _tier_sales(bench)
        assert (status, refusal) == (IntentStatus.REJECTED, Refusal.FUNDS)
        assert bench.orders.repo.marks()[BTC].tiers_skipped == frozenset()  # not skipped
        assert "tier_skipped" not in [e.kind for e in bench.ctx.store.recent_journal(50)]
        await bench.tick()  # still short: it waits, nothing more is sent
        assert len(_tier_sales(bench)) == 1
        waits = [e.message for e in bench.journal("exit_waiting")]
        assert any("insufficient balance" in m for m in waits), waits
        assert any("0 BTC free, the sale needs 0.02497" in m for m in waits), waits

        emulator.set_balances(BTC="0.02497")  # the coins are back
        await bench.tick()

        assert [(s, r) for _, s, r, _ in _tier_sales(bench)] == [
            (IntentStatus.REJECTED, Refusal.FUNDS),
            (IntentStatus.CLOSED, None),
        ]
        assert bench.orders.position(BTC).tiers_taken == frozenset({1})
        assert bench.sent_twice() == []

    run(tmp_path, emulator, scenario)


def _take_free_btc_in_flight(emulator: EmulatorHandle) -> None:
    """Once the delayed sale is in flight (its fault taken), the free BTC goes."""
    wait_until(lambda: not emulator.state()["faults"], "the sale in flight")
    emulator.set_balances(BTC="0")


@pytest.mark.parametrize("ended_by", ["hand", "venue"])
def test_a_stop_canceled_by_hand_is_replaced_within_one_tick_and_status_says_so(
    tmp_path: Path, emulator: EmulatorHandle, ended_by: str
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")  # its stop is placed with the fill
        (first,) = bench.stops()
        source = bench.status()["positions"][0]["stop_source"]
        assert (source["source"], source["checked_at"]) == ("store", None)  # no check yet
        await bench.tick()
        view = bench.status()["positions"][0]
        assert (view["stop_source"]["source"], view["stop_source"]["seen_at_venue"]) == (
            "venue",
            True,
        )

        if ended_by == "hand":  # a person, through the API or the web UI
            bench.cancel_by_hand(first.client_order_id)
        else:  # the venue itself: maintenance, an account event
            emulator.end_order(BTC, first.client_order_id, "EXPIRED")
        # The daemon is away: status still shows the store's stop, and how old its view is.
        away = bench.status(bench.now + timedelta(minutes=10))
        source = away["positions"][0]["stop_source"]
        assert source["stale"] is True and "is the daemon running?" in source["note"]

        await bench.tick()

        old, new = bench.stops()
        gone = IntentStatus.CANCELED if ended_by == "hand" else IntentStatus.EXPIRED
        assert old.status is gone and new.status is IntentStatus.OPEN
        assert [s["clientOrderId"] for s in bench.venue_stops()] == [new.client_order_id]
        (missing,) = bench.journal("exchange_stop_missing")
        assert missing.level == "warning" and "canceled there, not by the daemon" in (
            missing.message
        )
        view = bench.status()["positions"][0]
        assert view["exchange_stop"]["client_order_id"] == new.client_order_id
        assert view["stop_notice"] is not None and first.client_order_id in view["stop_notice"]
        assert view["stop_mismatch"] is None

    run(tmp_path, emulator, scenario)
    # What the operator reads: the notice, and where the stop's view comes from.
    shown = run_qtbot(
        "status", cwd=tmp_path, env={"QTBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite'}"}
    )
    assert shown.returncode == 0, shown.stderr
    assert "NOTICE: exchange stop qtbot-" in shown.stdout
    assert "was canceled at the venue, not by the daemon" in shown.stdout
    assert "exchange stop view: " in shown.stdout and "MISMATCH" not in shown.stdout


def test_status_after_the_stop_sold_the_position_shows_no_dust_position(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    emulator.configure(fee_rate="0.00075")  # the buy's fee in base leaves 0.000005 BTC of dust

    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        (stop,) = bench.venue_stops()
        assert stop["origQty"] == "0.09992000"  # 0.099925 held, the lot step is 0.00001
        await bench.market("39990")  # through the 40000 trigger, above the 39800 limit

        await bench.tick()

        sold = [(r.kind, r.filled) for r in bench.orders.repo.all(BTC) if r.side.value == "sell"]
        assert sold == [("exchange_stop", D("0.09992"))]  # the venue's stop, not the daemon
        assert bench.orders.position(BTC).size == D("0.000005")  # the dust is really there
        view = bench.status()
        assert view["positions"] == []
        assert view["open_orders"] == []

    run(tmp_path, emulator, scenario)


def test_the_move_limit_counts_from_the_last_move_not_from_lookups(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        await bench.market("70000")  # the trailing stop (armed from entry) at 59500
        await bench.tick(seconds=61)
        (resting,) = [s for s in bench.stops() if s.status is IntentStatus.OPEN]
        assert resting.trigger_price == D("59500.00")
        await bench.market("72000")  # the daemon's stop rises to 61200
        # Lookups of the resting stop (reconciles) every 20 s do not push the move out.
        for _ in range(3):
            await bench.orders.reconcile(bench.later(20))
        await bench.tick(seconds=5)  # 65 s after the move, 5 s after the last lookup

        (resting,) = [s for s in bench.stops() if s.status is IntentStatus.OPEN]
        assert resting.trigger_price == D("61200.00")
        view = bench.status()["positions"][0]["exchange_stop"]
        assert view["last_moved"] == resting.last_moved.isoformat()

    run(
        tmp_path,
        emulator,
        scenario,
        take_profit_tiers="90:25",
        trailing_arm_after_tiers=0,
    )


def test_an_exit_whose_stop_cancel_fails_waits_then_sells_though_the_price_recovered(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()  # the stop rests at the trailing level, 42500.43
        await bench.market("70000")
        await bench.tick(seconds=5)  # trailing at 59500; the stop may move only in a minute
        await bench.market("59000")  # through the daemon's trailing stop, far above the venue's
        emulator.add_fault("status", method="DELETE", path=ORDER, status=503, times=1)

        await bench.tick(seconds=5)

        assert {o["type"] for o in bench.venue_sells()} == {"STOP_LOSS_LIMIT"}  # no sale yet
        (wait,) = bench.journal("exit_waiting")
        assert wait.message.startswith("BTC/USDT trailing_stop exit waits: the exchange stop")
        assert "its cancel is retried next check" in wait.message
        await bench.market("65000")  # back above the trailing stop: the engine asks nothing

        await bench.tick(seconds=5)

        assert not bench.orders.position(BTC).is_open()
        exits = [r for r in bench.orders.repo.all(BTC) if r.kind == "trailing_stop"]
        assert [(r.status, r.refusal) for r in exits] == [
            (IntentStatus.REJECTED, Refusal.HELD),
            (IntentStatus.CLOSED, None),
        ]
        assert bench.venue_stops() == [] and bench.sent_twice() == []

    run(tmp_path, emulator, scenario, take_profit_tiers="90:25", trailing_arm_after_tiers=0)


def test_a_panic_sale_refused_for_the_held_base_is_sent_again_next_tick(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        RuntimeState(bench.ctx.store).set_panic_requested(True, bench.now)
        emulator.add_fault("status", method="DELETE", path=ORDER, status=503, times=1)

        await bench.tick(seconds=5)  # the panic: the stop's cancel fails, the sale is refused

        (refused,) = [r for r in bench.orders.repo.all(BTC) if r.kind == "panic"]
        assert (refused.status, refused.refusal) == (IntentStatus.REJECTED, Refusal.FUNDS)
        assert bench.orders.position(BTC).is_open()

        await bench.tick(seconds=5)

        assert not bench.orders.position(BTC).is_open()
        panics = [r for r in bench.orders.repo.all(BTC) if r.kind == "panic"]
        assert [r.status for r in panics] == [IntentStatus.REJECTED, IntentStatus.CLOSED]
        assert bench.venue_stops() == [] and bench.sent_twice() == []

    run(tmp_path, emulator, scenario)
