"""A cancelled caller never cuts an order send, a cancel or a stop move between the venue call
and the record of its answer: it waits for the record, then the cancellation goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.execution.manager import OrderManager
from bot.execution.uninterrupted import finish_then_cancel
from bot.orders.intents import IntentStatus
from bot.state.store import Store
from tests.unit.held_venue import HeldVenue, limit_buy, market_buy
from tests.unit.orders.venue import db_url, make_venue

DEADLINE = 60.0


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, HeldVenue, OrderManager]]:
    store = Store.open(db_url(tmp_path))
    venue = HeldVenue(make_venue(store.engine))
    yield store, venue, OrderManager(store, venue, "binance")  # type: ignore[arg-type]
    store.close()


async def _spin(times: int = 50) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


@pytest.mark.parametrize("cancels", [1, 3], ids=["one_cancel", "repeated_cancels"])
def test_cancelled_submit_waits_for_the_answer_to_be_recorded_then_raises(
    world: tuple[Store, HeldVenue, OrderManager], cancels: int
) -> None:
    store, venue, manager = world

    async def scenario() -> str:
        task = asyncio.create_task(manager.submit(market_buy(), venue.clock.now()))
        await asyncio.wait_for(venue.entered.wait(), DEADLINE)
        for _ in range(cancels):
            task.cancel()
            await _spin()
        assert not task.done(), "the send is still waiting for the venue"
        venue.release.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, DEADLINE)
        # Read at the moment the cancellation reached the caller: already recorded.
        return store.order_repo().by_cause(market_buy().cause)[0].status.value

    assert asyncio.run(scenario()) == IntentStatus.CLOSED.value
    assert len(venue.answered) == 1


def test_cancelled_cancel_waits_for_the_venue_and_records_it(
    world: tuple[Store, HeldVenue, OrderManager],
) -> None:
    store, venue, manager = world

    async def scenario() -> None:
        venue.release.set()
        resting = await manager.submit(limit_buy(), venue.clock.now())
        assert resting.status is IntentStatus.OPEN
        venue.release.clear()
        venue.entered.clear()
        task = asyncio.create_task(manager.cancel(resting, venue.clock.now()))
        await asyncio.wait_for(venue.entered.wait(), DEADLINE)
        task.cancel()
        await _spin()
        assert not task.done()
        venue.release.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, DEADLINE)

    asyncio.run(scenario())
    (record,) = store.order_repo().by_cause(limit_buy().cause)
    assert record.status is IntentStatus.CANCELED


def test_a_caller_cancelled_while_waiting_for_the_lock_sends_nothing(
    world: tuple[Store, HeldVenue, OrderManager],
) -> None:
    store, venue, manager = world

    async def scenario() -> None:
        await manager.lock.acquire()
        task = asyncio.create_task(manager.submit(market_buy(), venue.clock.now()))
        await _spin()
        task.cancel()
        manager.lock.release()
        venue.release.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, DEADLINE)

    asyncio.run(scenario())
    assert store.order_repo().by_cause(market_buy().cause) == []
    assert not venue.entered.is_set()


def test_an_error_of_the_work_wins_over_the_cancellation() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()

        async def work() -> None:
            await gate.wait()
            raise RuntimeError("recording failed")

        task = asyncio.create_task(finish_then_cancel(work()))
        await _spin()
        task.cancel()
        await _spin()
        gate.set()
        with pytest.raises(RuntimeError, match="recording failed"):
            await asyncio.wait_for(task, DEADLINE)

    asyncio.run(scenario())


def test_without_a_cancellation_the_result_comes_back() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    assert asyncio.run(finish_then_cancel(work())) == 7
