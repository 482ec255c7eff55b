"""Stop orders on bybit and okx through the real ccxt request builders, offline: the requests
ccxt would send (pinned field by field) and how the adapter reads the replies."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal as D
from typing import Any, TypeVar

import pytest
from ccxt.base import errors as ccxt_errors

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.ccxt.errors import Action, translate
from exchanges.errors import OrderRejected, StopWouldTrigger
from exchanges.stops import NO_STOP_ORDERS, ReplaceMethod, capabilities_of
from exchanges.venues import venue_spec
from tests.unit.exchanges.ccxt_fakes import FakeBybit, FakeOkx, Request

T = TypeVar("T")
BTC = "BTC/USDT"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def stop(
    cid: str, amount: str = "0.5", trigger: str = "48000", price: str = "47900"
) -> OrderRequest:
    return OrderRequest(cid, BTC, Side.SELL, OrderType.STOP_LIMIT, D(amount), D(price), D(trigger))


def only(requests: list[Request], path: str) -> Request:
    matching = [r for r in requests if r.path == path]
    assert len(matching) == 1, [r.path for r in requests]
    return matching[0]


async def closing(adapter: CcxtExchange, coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    finally:
        await adapter.close()


# ---- bybit -------------------------------------------------------------------------------


def test_bybit_stop_is_a_tpsl_limit_order_with_its_trigger() -> None:
    venue = FakeBybit()
    adapter = venue.adapter()

    order = run(closing(adapter, adapter.create_order(stop("qtbot-b1", trigger="48000.004"))))

    body = only(venue.requests, "/v5/order/create").body
    assert body == {
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderType": "Limit",
        "orderFilter": "tpslOrder",
        "orderLinkId": "qtbot-b1",
        "price": "47900",
        "category": "spot",
        "qty": "0.5",
        "triggerDirection": 2,
        "triggerPrice": "48000",
        "reduceOnly": True,
    }
    assert (order.type, order.status, order.trigger_price, order.price) == (
        OrderType.STOP_LIMIT,
        OrderStatus.OPEN,
        D("48000"),
        D("47900"),
    )
    assert order.waiting_for_trigger


def test_bybit_stop_found_waiting_filled_and_canceled() -> None:
    venue = FakeBybit()
    adapter = venue.adapter()

    async def scenario() -> None:
        await adapter.create_order(stop("qtbot-b2"))
        await adapter.create_order(stop("qtbot-b3", trigger="47000", price="46900"))
        waiting = await adapter.fetch_order(BTC, "qtbot-b2")
        assert waiting is not None and waiting.waiting_for_trigger
        venue.fill("qtbot-b2", "47950")
        filled = await adapter.fetch_order(BTC, "qtbot-b2")
        assert filled is not None and filled.status is OrderStatus.CLOSED and filled.triggered
        assert (filled.filled, filled.average, filled.trigger_price) == (
            D("0.5"),
            D("47950"),
            D("48000"),
        )
        canceled = await adapter.cancel_order(BTC, "qtbot-b3")
        assert canceled.status is OrderStatus.CANCELED and not canceled.triggered
        fills = await adapter.fetch_my_trades(BTC)
        assert [(f.client_order_id, f.amount, f.price) for f in fills] == [
            ("qtbot-b2", D("0.5"), D("47950"))
        ]

    run(closing(adapter, scenario()))
    cancels = [r.body for r in venue.requests if r.path == "/v5/order/cancel"]
    assert [c["orderFilter"] for c in cancels] == ["Order", "tpslOrder"]
    assert all(c["orderLinkId"] == "qtbot-b3" for c in cancels)


def test_bybit_open_orders_include_resting_stops() -> None:
    venue = FakeBybit()
    adapter = venue.adapter()

    async def scenario() -> list[str]:
        await adapter.create_order(stop("qtbot-b4"))
        return [o.client_order_id for o in await adapter.fetch_open_orders(BTC)]

    assert run(closing(adapter, scenario())) == ["qtbot-b4"]
    filters = [r.query.get("orderFilter") for r in venue.requests if r.path == "/v5/order/realtime"]
    assert filters == [None, "tpslOrder"]


def test_bybit_replace_amends_the_stop_in_place() -> None:
    venue = FakeBybit()
    adapter = venue.adapter()

    async def scenario() -> Any:
        placed = await adapter.create_order(stop("qtbot-b5"))
        result = await adapter.replace_stop(
            BTC, "qtbot-b5", stop("qtbot-b6", amount="0.4", trigger="49000", price="48900")
        )
        return placed, result

    placed, result = run(closing(adapter, scenario()))
    amend = only(venue.requests, "/v5/order/amend").body
    assert amend == {
        "symbol": "BTCUSDT",
        "orderId": placed.exchange_order_id,
        "category": "spot",
        "qty": "0.4",
        "price": "48900",
        "triggerPrice": "49000",
        "triggerBy": "LastPrice",
    }
    assert result.method is ReplaceMethod.AMEND
    assert result.order.client_order_id == "qtbot-b5"  # an amend keeps the id
    assert (result.order.trigger_price, result.order.price, result.order.amount) == (
        D("49000"),
        D("48900"),
        D("0.4"),
    )
    assert result.previous.trigger_price == D("48000")
    assert [r.path for r in venue.writes()] == ["/v5/order/create", "/v5/order/amend"]


# ---- okx ---------------------------------------------------------------------------------


def test_okx_stop_is_a_trigger_algo_order_named_by_algo_client_id() -> None:
    venue = FakeOkx()
    adapter = venue.adapter()

    order = run(closing(adapter, adapter.create_order(stop("qtbotk1"))))

    body = only(venue.requests, "/api/v5/trade/order-algo").body
    assert body == {
        "instId": "BTC-USDT",
        "side": "sell",
        "ordType": "trigger",
        "sz": "0.5",
        "tdMode": "cash",
        "tgtCcy": "base_ccy",
        "triggerPx": "48000",
        "orderPx": "47900",
        "algoClOrdId": "qtbotk1",
        "clOrdId": "qtbotk1",  # not a random ccxt broker id (no "tag" either)
    }
    assert order.client_order_id == "qtbotk1" and order.waiting_for_trigger
    assert order.trigger_price == D("48000")


def test_okx_stop_found_waiting_then_through_its_child_order() -> None:
    venue = FakeOkx()
    adapter = venue.adapter()

    async def scenario() -> None:
        await adapter.create_order(stop("qtbotk2"))
        waiting = await adapter.fetch_order(BTC, "qtbotk2")
        assert waiting is not None and waiting.waiting_for_trigger
        assert [o.client_order_id for o in await adapter.fetch_open_orders(BTC)] == ["qtbotk2"]
        venue.fill("qtbotk2", "47950")
        filled = await adapter.fetch_order(BTC, "qtbotk2")
        assert filled is not None
        assert (filled.type, filled.status, filled.triggered, filled.filled) == (
            OrderType.STOP_LIMIT,
            OrderStatus.CLOSED,
            True,
            D("0.5"),
        )
        assert (filled.average, filled.trigger_price) == (D("47950"), D("48000"))
        fills = await adapter.fetch_my_trades(BTC)
        assert [(f.client_order_id, f.price) for f in fills] == [("qtbotk2", D("47950"))]

    run(closing(adapter, scenario()))
    algo_queries = [
        r.query
        for r in venue.requests
        if r.path == "/api/v5/trade/order-algo" and r.method == "GET"
    ]
    assert algo_queries and all(
        q == {"instId": "BTC-USDT", "algoClOrdId": "qtbotk2"} for q in algo_queries
    )


def test_okx_cancel_of_a_stop_goes_to_the_algo_endpoint() -> None:
    venue = FakeOkx()
    adapter = venue.adapter()

    async def scenario() -> Any:
        await adapter.create_order(stop("qtbotk3"))
        return await adapter.cancel_order(BTC, "qtbotk3")

    canceled = run(closing(adapter, scenario()))
    assert only(venue.requests, "/api/v5/trade/cancel-algos").body == [
        {"instId": "BTC-USDT", "algoClOrdId": "qtbotk3"}
    ]
    assert canceled.status is OrderStatus.CANCELED and not canceled.triggered


def test_okx_replace_amends_the_algo_order() -> None:
    venue = FakeOkx()
    adapter = venue.adapter()

    async def scenario() -> Any:
        placed = await adapter.create_order(stop("qtbotk4"))
        result = await adapter.replace_stop(
            BTC, "qtbotk4", stop("qtbotk5", trigger="49000", price="48900")
        )
        return placed, result

    placed, result = run(closing(adapter, scenario()))
    assert only(venue.requests, "/api/v5/trade/amend-algos").body == {
        "instId": "BTC-USDT",
        "algoId": placed.exchange_order_id,
        "newTriggerPx": "49000",
        "newOrdPx": "48900",
        "newTriggerPxType": "last",
        "newSz": "0.5",
    }
    assert result.method is ReplaceMethod.AMEND and result.order.client_order_id == "qtbotk4"
    assert (result.order.trigger_price, result.order.price) == (D("49000"), D("48900"))


# ---- venue-independent -------------------------------------------------------------------


@pytest.mark.parametrize("venue_cls", [FakeBybit, FakeOkx])
def test_stop_the_last_price_reached_is_refused_before_sending(venue_cls: type) -> None:
    venue = venue_cls(bid="48100", ask="48110", last="47990")
    adapter = venue.adapter()

    with pytest.raises(StopWouldTrigger):
        run(closing(adapter, adapter.create_order(stop("qtbotk6"))))
    assert venue.writes() == []


def test_venue_without_stop_orders_says_so_and_refuses_them() -> None:
    adapter = CcxtExchange("kraken", "live", "key", "secret")
    assert capabilities_of(adapter) is NO_STOP_ORDERS
    assert venue_spec("kraken").stops is None

    async def scenario() -> None:
        async def markets(reload: bool = False, params: Any = None) -> dict[str, Any]:
            return {}

        adapter.client.load_markets = markets
        with pytest.raises(OrderRejected):
            await adapter.replace_stop(BTC, "a", stop("b"))

    run(closing(adapter, scenario()))


def test_venue_refusal_of_a_reached_stop_is_translated() -> None:
    exc = ccxt_errors.OrderImmediatelyFillable("binance Stop price would trigger immediately.")
    error = translate(exc, Action.PLACE, venue_spec("binance"), "qtbot-x")
    assert isinstance(error, StopWouldTrigger) and error.client_order_id == "qtbot-x"
