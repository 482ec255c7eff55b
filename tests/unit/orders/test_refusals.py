"""Refusals keep their class (issue #20): a sale refused for the base (insufficient balance, or
held back because the exchange stop still holds it) gets a fresh attempt when submitted again,
with the next deterministic client id recorded before it is sent; any other refusal is final."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.execution.manager import OrderManager
from bot.orders.intents import IntentStatus, OrderIntent, Refusal
from bot.state.store import Store
from exchanges.base import OrderType, Side
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.venue import db_url, later, make_venue

CAUSE = "BTC/USDT|c1|tp1"


def sell(amount: str) -> OrderIntent:
    return OrderIntent(
        cause=CAUSE,
        kind="take_profit",
        symbol="BTC/USDT",
        side=Side.SELL,
        type=OrderType.MARKET,
        amount=Decimal(amount),
        reason="tier 1",
        tier=1,
    )


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    store = Store.open(db_url(tmp_path))
    venue = make_venue(store.engine)
    manager = OrderManager(store, venue, "binance")  # type: ignore[arg-type]
    yield store, venue, manager
    store.close()


def test_a_sale_refused_for_the_balance_gets_a_fresh_attempt_when_sent_again(setup: Any) -> None:
    store, venue, manager = setup

    refused = asyncio.run(manager.submit(sell("1"), later(venue.clock)))  # nothing held yet

    assert (refused.status, refused.refusal) == (IntentStatus.REJECTED, Refusal.FUNDS)
    assert refused.retry_when_free and refused.client_order_id == manager.client_id(CAUSE, 0)
    (journaled,) = [e for e in store.recent_journal(10) if e.kind == "order_rejected"]
    assert journaled.data["refusal"] == "insufficient_funds"
    asyncio.run(manager.submit(buy(amount="1"), later(venue.clock)))

    sold = asyncio.run(manager.submit(sell("1"), later(venue.clock)))

    assert sold.status is IntentStatus.CLOSED
    assert sold.client_order_id == manager.client_id(CAUSE, 1)
    assert [r.client_order_id for r in manager.repo.by_cause(CAUSE)] == [
        manager.client_id(CAUSE, 0),
        manager.client_id(CAUSE, 1),
    ]


def test_any_other_refusal_is_final(setup: Any) -> None:
    _, venue, manager = setup
    venue.faults.append("rejected")  # a filter: the same order would be refused again
    first = asyncio.run(manager.submit(sell("1"), later(venue.clock)))

    again = asyncio.run(manager.submit(sell("1"), later(venue.clock)))

    assert (first.refusal, first.retry_when_free) == (Refusal.FINAL, False)
    assert again == first and len(manager.repo.by_cause(CAUSE)) == 1


def test_a_held_sale_is_recorded_once_unsent_then_sent_with_the_next_id(setup: Any) -> None:
    _, venue, manager = setup
    asyncio.run(manager.submit(buy(amount="1"), later(venue.clock)))

    held = asyncio.run(manager.hold(sell("0.25"), later(venue.clock), "the stop holds it"))
    again = asyncio.run(manager.hold(sell("0.25"), later(venue.clock), "the stop holds it"))

    assert (held.status, held.refusal, held.attempts) == (IntentStatus.REJECTED, Refusal.HELD, 0)
    assert held.last_error == "not sent: the stop holds it" and again == held
    assert venue.creates[held.client_order_id] == 0

    sold = asyncio.run(manager.submit(sell("0.25"), later(venue.clock)))

    assert sold.status is IntentStatus.CLOSED
    assert sold.client_order_id == manager.client_id(CAUSE, 1)
    assert venue.creates[sold.client_order_id] == 1


def test_a_refusal_stored_before_refusals_had_a_class_stays_final(setup: Any) -> None:
    store, venue, manager = setup
    refused = asyncio.run(manager.submit(sell("1"), later(venue.clock)))
    with store.engine.begin() as conn:  # as a database migrated from schema 8 holds it
        conn.execute(text("UPDATE order_intent SET refusal = NULL"))
    asyncio.run(manager.submit(buy(amount="1"), later(venue.clock)))

    again = asyncio.run(manager.submit(sell("1"), later(venue.clock)))

    assert again.client_order_id == refused.client_order_id
    assert (again.status, again.refusal) == (IntentStatus.REJECTED, Refusal.FINAL)
