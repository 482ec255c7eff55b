"""Protective stops, as every adapter that declares `capabilities.stop_orders` must handle them
(contract in `exchanges.stops`), on the Binance-like BTC/USDT venue of the harness.

The market opens at bid 29999.99; the stops sell below it (trigger 29000, limit 28900)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.base import Balance, OrderRequest, OrderStatus, OrderType, Side
from exchanges.errors import OrderRejected, StopWouldTrigger
from exchanges.stops import ReplaceMethod, StopOrderAdapter, capabilities_of
from tests.contract.harness import SYMBOL, VenueHarness, venue_scenario

D = Decimal
BID, ASK = D("29999.99"), D("30000.00")


def stop(cid: str, amount: str, trigger: str = "29000", price: str = "28900") -> OrderRequest:
    return OrderRequest(
        cid, SYMBOL, Side.SELL, OrderType.STOP_LIMIT, D(amount), D(price), D(trigger)
    )


async def btc(venue: VenueHarness) -> Balance:
    return (await venue.adapter.fetch_balances())["BTC"]


def stops_of(venue: VenueHarness) -> StopOrderAdapter:
    adapter = venue.adapter
    assert capabilities_of(adapter).stop_orders, "every contract venue rests stops"
    assert isinstance(adapter, StopOrderAdapter)
    return adapter


@venue_scenario
async def test_stop_below_market_rests_listed_and_reserves_base(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await btc(venue)

    order = await venue.adapter.create_order(stop("sl-rest", "0.01"))

    assert (order.status, order.type, order.waiting_for_trigger) == (
        OrderStatus.OPEN,
        OrderType.STOP_LIMIT,
        True,
    )
    assert (order.trigger_price, order.price, order.amount) == (D("29000"), D("28900"), D("0.01"))
    listed = await venue.adapter.fetch_open_orders(SYMBOL)
    assert [(o.client_order_id, o.waiting_for_trigger) for o in listed] == [("sl-rest", True)]
    held = await btc(venue)
    assert (held.used, held.total) == (start.used + D("0.01"), start.total)
    await venue.set_market(SYMBOL, D("29500"), D("29501"))  # lower, not at the trigger
    await venue.advance()
    assert await venue.adapter.fetch_my_trades(SYMBOL) == []


@venue_scenario
async def test_market_through_the_trigger_fills_the_stop_under_its_id(
    venue: VenueHarness,
) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    await venue.adapter.create_order(stop("sl-fill", "0.01"))
    start = await btc(venue)

    await venue.set_market(SYMBOL, D("28990"), D("28991"))
    await venue.advance()

    order = await venue.adapter.fetch_order(SYMBOL, "sl-fill")
    assert order is not None
    assert (order.status, order.triggered, order.filled) == (OrderStatus.CLOSED, True, D("0.01"))
    assert order.average is not None and D("28900") <= order.average <= D("28990")
    fills = await venue.adapter.fetch_my_trades(SYMBOL)
    assert {f.client_order_id for f in fills} == {"sl-fill"}
    assert sum(f.amount for f in fills) == D("0.01")
    assert all(f.side is Side.SELL and f.price >= D("28900") for f in fills)
    held = await btc(venue)
    assert held.used == 0
    assert held.total == start.total - D("0.01") - sum(f.fee for f in fills if f.fee_asset == "BTC")
    assert await venue.adapter.fetch_open_orders(SYMBOL) == []


@venue_scenario
async def test_stop_found_by_client_id_in_every_state(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    await venue.adapter.create_order(stop("sl-life", "0.01"))
    await venue.adapter.create_order(stop("sl-cxl", "0.01", "28000", "27900"))

    waiting = await venue.adapter.fetch_order(SYMBOL, "sl-life")
    assert waiting is not None and waiting.waiting_for_trigger

    await venue.set_market(SYMBOL, D("28950"), D("28951"), depth=D("0.004"), levels=1)
    await venue.advance()
    working = await venue.adapter.fetch_order(SYMBOL, "sl-life")
    assert working is not None
    assert (working.status, working.triggered, working.filled) == (
        OrderStatus.OPEN,
        True,
        D("0.004"),
    )

    await venue.set_market(SYMBOL, D("28900"), D("28901"))
    await venue.advance()
    filled = await venue.adapter.fetch_order(SYMBOL, "sl-life")
    assert filled is not None and (filled.status, filled.filled) == (OrderStatus.CLOSED, D("0.01"))

    canceled = await venue.adapter.cancel_order(SYMBOL, "sl-cxl")
    assert canceled.status is OrderStatus.CANCELED and not canceled.triggered
    again = await venue.adapter.fetch_order(SYMBOL, "sl-cxl")
    assert again is not None and again.status is OrderStatus.CANCELED
    assert again.trigger_price == D("28000")
    assert (await btc(venue)).used == 0


@venue_scenario
async def test_cancel_releases_the_stop_reservation(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await btc(venue)
    await venue.adapter.create_order(stop("sl-free", "0.02"))

    await venue.adapter.cancel_order(SYMBOL, "sl-free")

    assert (await btc(venue)).free == start.free
    assert await venue.adapter.fetch_open_orders(SYMBOL) == []


@venue_scenario
async def test_replace_moves_the_trigger_and_never_leaves_two_stops(venue: VenueHarness) -> None:
    adapter = stops_of(venue)
    await venue.set_market(SYMBOL, BID, ASK)
    start = await btc(venue)
    await adapter.create_order(stop("sl-v1", str(start.free), "28000", "27900"))  # all base

    result = await adapter.replace_stop(
        SYMBOL, "sl-v1", stop("sl-v2", str(start.free), "29500", "29400")
    )

    expected_id = "sl-v1" if adapter.capabilities.replace_method is ReplaceMethod.AMEND else "sl-v2"
    assert result.order.client_order_id == expected_id
    assert (result.order.trigger_price, result.order.price) == (D("29500"), D("29400"))
    listed = await adapter.fetch_open_orders(SYMBOL)
    assert [(o.client_order_id, o.trigger_price) for o in listed] == [(expected_id, D("29500"))]
    assert (await btc(venue)).used == start.free
    # The moved stop is the one that fires.
    await venue.set_market(SYMBOL, D("29450"), D("29451"))
    await venue.advance()
    fills = await adapter.fetch_my_trades(SYMBOL)
    assert {f.client_order_id for f in fills} == {expected_id}


@venue_scenario
async def test_stop_below_min_notional_rejected_with_reason(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)

    with pytest.raises(OrderRejected) as info:
        await venue.adapter.create_order(stop("sl-tiny", "0.0001"))

    assert not isinstance(info.value, StopWouldTrigger)
    assert SYMBOL in info.value.reason and "2.89" in info.value.reason
    assert await venue.adapter.fetch_order(SYMBOL, "sl-tiny") is None


@venue_scenario
async def test_stop_the_market_already_reached_is_refused(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)

    with pytest.raises(StopWouldTrigger):
        await venue.adapter.create_order(stop("sl-late", "0.01", "30100", "30000"))

    assert await venue.adapter.fetch_open_orders(SYMBOL) == []
    assert (await btc(venue)).used == 0
