"""Order manager: recorded before sent, never sent twice, unknown outcomes looked up first."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from bot.execution.manager import OrderManager
from bot.orders.intents import IllegalTransition, IntentStatus, OrderIntent, transition
from bot.state.orders_repo import OrderRepo
from bot.state.store import Store
from exchanges.base import OrderType, Side
from tests.unit.orders.venue import FaultyVenue, db_url, later, make_venue


def buy(cause: str = "plan-1|tranche-1", amount: str = "1", **kw: object) -> OrderIntent:
    base = dict(
        cause=cause,
        kind="tranche",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.MARKET,
        amount=Decimal(amount),
        reason="test tranche",
    )
    base.update(kw)
    return OrderIntent(**base)  # type: ignore[arg-type]


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store.open(db_url(tmp_path))
    venue = make_venue(store.engine)
    manager = OrderManager(store, venue, "binance")  # type: ignore[arg-type]
    yield store, venue, manager
    store.close()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_market_buy_is_recorded_sent_and_its_fill_builds_the_position(setup) -> None:  # type: ignore[no-untyped-def]
    store, venue, manager = setup
    record = run(manager.submit(buy(), venue.clock.now()))
    assert record.status is IntentStatus.CLOSED and record.attempts == 1
    assert record.client_order_id.startswith("qtbot")
    new = run(manager.sync_fills("BTC/USDT", later(venue.clock)))
    assert len(new) == 1
    position = manager.position("BTC/USDT")
    assert position.size == Decimal(1)
    assert [e.kind for e in store.recent_journal(5)][-1] == "order_intent"


def test_same_cause_twice_sends_once(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    first = run(manager.submit(buy(), venue.clock.now()))
    second = run(manager.submit(buy(), later(venue.clock)))
    assert first.client_order_id == second.client_order_id
    assert sum(venue.creates.values()) == 1


def test_timeout_after_accept_is_unknown_then_looked_up_not_resent(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    venue.faults.append("timeout_after_accept")
    record = run(manager.submit(buy(), venue.clock.now()))
    assert record.status is IntentStatus.UNKNOWN
    again = run(manager.submit(buy(), later(venue.clock)))
    assert again.status is IntentStatus.CLOSED
    assert venue.creates[record.client_order_id] == 1


def test_unknown_stays_unknown_while_the_lookup_fails(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    venue.faults.append("timeout_after_accept")
    run(manager.submit(buy(), venue.clock.now()))
    venue.lookup_faults = 2
    assert run(manager.submit(buy(), later(venue.clock))).status is IntentStatus.UNKNOWN
    assert run(manager.submit(buy(), later(venue.clock))).status is IntentStatus.UNKNOWN
    assert run(manager.submit(buy(), later(venue.clock))).status is IntentStatus.CLOSED
    assert sum(venue.creates.values()) == 1


def test_refused_connection_is_looked_up_and_resent_with_the_same_id(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    venue.faults.append("refused")
    first = run(manager.submit(buy(), venue.clock.now()))
    assert first.status is IntentStatus.UNKNOWN
    second = run(manager.submit(buy(), later(venue.clock)))
    assert second.status is IntentStatus.CLOSED
    assert second.client_order_id == first.client_order_id
    assert venue.creates[first.client_order_id] == 1


def test_crash_between_record_and_send_resends_once_after_restart(tmp_path: Path) -> None:
    store = Store.open(db_url(tmp_path))
    venue = make_venue(store.engine)
    manager = OrderManager(store, venue, "binance")  # type: ignore[arg-type]
    cid = manager.client_id("plan-1|tranche-1")
    OrderRepo(store.engine).insert_intent(cid, buy(), venue.clock.now())  # then "SIGKILL"
    store.close()

    store = Store.open(db_url(tmp_path))
    manager = OrderManager(store, venue, "binance")  # type: ignore[arg-type]
    report = run(manager.reconcile(later(venue.clock)))
    assert report.repaired == [f"{cid}: pending -> not_found"]
    record = run(manager.submit(buy(), later(venue.clock)))
    assert record.status is IntentStatus.CLOSED and record.client_order_id == cid
    assert venue.creates[cid] == 1
    store.close()


def test_rejection_is_journaled_and_not_retried(setup) -> None:  # type: ignore[no-untyped-def]
    store, venue, manager = setup
    tiny = buy(amount="0.00002")  # 0.002 USDT, below the 5 USDT minimum notional
    record = run(manager.submit(tiny, venue.clock.now()))
    assert record.status is IntentStatus.REJECTED and record.last_error
    assert run(manager.submit(tiny, later(venue.clock))).status is IntentStatus.REJECTED
    assert any(e.kind == "order_rejected" for e in store.recent_journal(10))
    assert len(manager.repo.by_cause(tiny.cause)) == 1


def test_canceled_unfilled_limit_gets_a_new_deterministic_attempt(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    limit = buy(type=OrderType.LIMIT, price=Decimal(90))
    first = run(manager.submit(limit, venue.clock.now()))
    assert first.status is IntentStatus.OPEN
    canceled = run(manager.cancel(first, later(venue.clock)))
    assert canceled.status is IntentStatus.CANCELED
    second = run(manager.submit(limit, later(venue.clock)))
    assert second.client_order_id != first.client_order_id
    assert second.client_order_id == manager.client_id(limit.cause, 1)
    assert second.status is IntentStatus.OPEN


def test_reconcile_repairs_an_order_filled_while_we_were_away(setup) -> None:  # type: ignore[no-untyped-def]
    store, venue, manager = setup
    record = run(manager.submit(buy(type=OrderType.LIMIT, price=Decimal(99)), venue.clock.now()))
    assert record.status is IntentStatus.OPEN
    venue.set_price(Decimal(95))
    run(venue.inner.match_resting())
    report = run(manager.reconcile(later(venue.clock)))
    assert report.repaired == [f"{record.client_order_id}: open -> closed"]
    assert report.new_fills == 1
    # Filling at the venue is routine: journaled as a fill, not as a discrepancy.
    assert not any(e.kind == "reconcile" for e in store.recent_journal(10))
    assert any(e.kind == "fill" for e in store.recent_journal(10))
    assert manager.position("BTC/USDT").size == Decimal(1)


def test_fills_are_recorded_once_however_often_synced(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, manager = setup
    run(manager.submit(buy(), venue.clock.now()))
    for _ in range(3):
        run(manager.sync_fills("BTC/USDT", later(venue.clock)))
    assert manager.repo.fill_count() == 1


def test_a_fill_inside_the_last_sync_window_is_still_recorded(setup) -> None:  # type: ignore[no-untyped-def]
    # A sync that reads the very trades it read last time records nothing (they were all
    # handled then); a new trade in the same overlap window changes what the venue lists.
    store, venue, manager = setup
    run(manager.submit(buy(), venue.clock.now()))
    assert len(run(manager.sync_fills("BTC/USDT", later(venue.clock)))) == 1
    lines = len(store.recent_journal(100))
    assert run(manager.sync_fills("BTC/USDT", later(venue.clock))) == []
    assert len(store.recent_journal(100)) == lines
    run(manager.submit(buy("plan-1|tranche-2"), venue.clock.now()))
    new = run(manager.sync_fills("BTC/USDT", later(venue.clock)))
    assert len(new) == 1 and manager.repo.fill_count() == 2
    assert manager.position("BTC/USDT").size == Decimal(2)


def test_status_transitions_refuse_to_rewrite_history() -> None:
    assert transition(IntentStatus.PENDING, IntentStatus.OPEN) is IntentStatus.OPEN
    with pytest.raises(IllegalTransition):
        transition(IntentStatus.CLOSED, IntentStatus.OPEN)
    with pytest.raises(IllegalTransition):
        transition(IntentStatus.REJECTED, IntentStatus.PENDING)


def test_venue_wrapper_is_a_faithful_adapter(setup) -> None:  # type: ignore[no-untyped-def]
    _, venue, _ = setup
    assert isinstance(venue, FaultyVenue)
    balances = run(venue.fetch_balances())
    assert balances["USDT"].free == Decimal(10000)


def test_open_order_the_venue_forgot_is_a_journaled_discrepancy(setup) -> None:  # type: ignore[no-untyped-def]
    store, venue, manager = setup
    record = run(manager.submit(buy(type=OrderType.LIMIT, price=Decimal(90)), venue.clock.now()))
    assert record.status is IntentStatus.OPEN

    async def forgot(symbol: str, client_order_id: str) -> None:
        return None

    venue.fetch_order = forgot  # type: ignore[method-assign]
    report = run(manager.reconcile(later(venue.clock)))
    assert report.repaired == [f"{record.client_order_id}: open -> not_found"]
    (entry,) = [e for e in store.recent_journal(10) if e.kind == "reconcile"]
    assert "no longer knows" in entry.message and entry.level == "warning"
