"""Behaviour every ExchangeAdapter must show, on a Binance-like BTC/USDT venue.

Assertions are venue-neutral where venues legitimately differ: fees may be charged in base or
quote (balances are reconciled with the reported fills), a resting order may fill at its limit
or better, and a buy may reserve more than its notional.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.base import Balance, Fill, OrderRequest, OrderStatus, OrderType, Side
from exchanges.errors import (
    DuplicateClientOrderId,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
)
from tests.contract.harness import SYMBOL, VenueHarness, venue_scenario

D = Decimal
BID, ASK = D("29999.99"), D("30000.00")


def market(cid: str, side: Side, amount: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.MARKET, D(amount))


def limit(cid: str, side: Side, amount: str, price: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.LIMIT, D(amount), D(price))


async def balances(venue: VenueHarness) -> dict[str, Balance]:
    zero = Balance("", D(0), D(0), D(0))
    held = await venue.adapter.fetch_balances()
    return {asset: held.get(asset, zero) for asset in ("BTC", "USDT")}


def expected_totals(start: dict[str, Balance], fills: list[Fill]) -> dict[str, Decimal]:
    """Totals implied by the fills: a buy pays cost for amount, a sell the reverse; each fee
    comes off the asset it was charged in."""
    total = {asset: b.total for asset, b in start.items()}
    for fill in fills:
        sign = 1 if fill.side is Side.BUY else -1
        total["BTC"] += sign * fill.amount
        total["USDT"] -= sign * fill.amount * fill.price
        total[fill.fee_asset] -= fill.fee
    return total


def assert_fee_rate(fill: Fill, rate: Decimal) -> None:
    charged_on = fill.amount * fill.price if fill.fee_asset == "USDT" else fill.amount
    assert fill.fee_asset in ("USDT", "BTC")
    assert fill.fee == pytest.approx(charged_on * rate, rel=Decimal("0.01"))
    assert fill.fee > 0


@venue_scenario
async def test_market_buy_fills_and_charges_taker_fee(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    taker = (await venue.adapter.load_markets())[SYMBOL].taker_fee
    start = await balances(venue)

    order = await venue.adapter.create_order(market("mb-1", Side.BUY, "0.01"))

    assert order.status is OrderStatus.CLOSED
    assert order.filled == D("0.01")
    assert order.average is not None and order.average >= ASK
    fills = await venue.adapter.fetch_my_trades(SYMBOL)
    assert sum(f.amount for f in fills) == D("0.01")
    assert {f.client_order_id for f in fills} == {"mb-1"}
    for fill in fills:
        assert not fill.is_maker
        assert_fee_rate(fill, taker)
    after = await balances(venue)
    assert {a: b.total for a, b in after.items()} == expected_totals(start, fills)
    assert after["USDT"].used == 0


@venue_scenario
async def test_limit_buy_below_market_rests_and_reserves_quote(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await balances(venue)

    order = await venue.adapter.create_order(limit("lb-1", Side.BUY, "0.001", "29000"))

    assert order.status is OrderStatus.OPEN
    assert order.filled == 0
    assert order.remaining == D("0.001")
    open_ids = [o.client_order_id for o in await venue.adapter.fetch_open_orders(SYMBOL)]
    assert open_ids == ["lb-1"]
    after = await balances(venue)
    assert after["USDT"].total == start["USDT"].total
    assert after["USDT"].used >= D("29")
    assert after["USDT"].free + after["USDT"].used == after["USDT"].total
    assert await venue.adapter.fetch_my_trades(SYMBOL) == []


@venue_scenario
async def test_limit_sell_above_market_reserves_base(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)

    order = await venue.adapter.create_order(limit("ls-1", Side.SELL, "0.01", "31000"))

    assert order.status is OrderStatus.OPEN
    after = await balances(venue)
    assert after["BTC"].used == D("0.01")


@venue_scenario
async def test_resting_limit_buy_fills_when_market_trades_through(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await balances(venue)
    await venue.adapter.create_order(limit("lb-2", Side.BUY, "0.001", "29000"))

    await venue.set_market(SYMBOL, D("28900"), D("28950"))
    await venue.advance()

    order = await venue.adapter.fetch_order(SYMBOL, "lb-2")
    assert order is not None
    assert order.status is OrderStatus.CLOSED
    assert order.filled == D("0.001")
    assert order.average is not None and order.average <= D("29000")
    assert await venue.adapter.fetch_open_orders(SYMBOL) == []
    fills = await venue.adapter.fetch_my_trades(SYMBOL)
    assert sum(f.amount for f in fills) == D("0.001")
    after = await balances(venue)
    assert {a: b.total for a, b in after.items()} == expected_totals(start, fills)
    assert after["USDT"].used == 0


@venue_scenario
async def test_resting_limit_buy_fills_partially_on_thin_book(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    await venue.adapter.create_order(limit("lb-3", Side.BUY, "0.001", "29000"))

    await venue.set_market(SYMBOL, D("28900"), D("28950"), depth=D("0.0004"), levels=1)
    await venue.advance()

    order = await venue.adapter.fetch_order(SYMBOL, "lb-3")
    assert order is not None
    assert order.status is OrderStatus.OPEN
    assert order.filled == D("0.0004")
    assert order.remaining == D("0.0006")
    assert [o.client_order_id for o in await venue.adapter.fetch_open_orders(SYMBOL)] == ["lb-3"]
    assert sum(f.amount for f in await venue.adapter.fetch_my_trades(SYMBOL)) == D("0.0004")


@venue_scenario
async def test_cancel_releases_reservation(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await balances(venue)
    await venue.adapter.create_order(limit("lb-4", Side.BUY, "0.001", "29000"))

    canceled = await venue.adapter.cancel_order(SYMBOL, "lb-4")

    assert canceled.status is OrderStatus.CANCELED
    assert await venue.adapter.fetch_open_orders(SYMBOL) == []
    fetched = await venue.adapter.fetch_order(SYMBOL, "lb-4")
    assert fetched is not None and fetched.status is OrderStatus.CANCELED
    after = await balances(venue)
    assert after["USDT"].free == start["USDT"].free
    assert after["USDT"].used == 0


@venue_scenario
async def test_cancel_unknown_order_raises_not_found(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    with pytest.raises(OrderNotFound):
        await venue.adapter.cancel_order(SYMBOL, "never-sent")


@venue_scenario
async def test_lookup_by_client_id_finds_order_or_none(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    placed = await venue.adapter.create_order(limit("lk-1", Side.BUY, "0.001", "29000"))

    found = await venue.adapter.fetch_order(SYMBOL, "lk-1")

    assert found is not None
    assert found.client_order_id == "lk-1"
    assert found.exchange_order_id == placed.exchange_order_id
    assert (found.side, found.type, found.amount, found.price) == (
        Side.BUY,
        OrderType.LIMIT,
        D("0.001"),
        D("29000"),
    )
    assert await venue.adapter.fetch_order(SYMBOL, "unknown-id") is None


@venue_scenario
async def test_duplicate_client_order_id_rejected(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    await venue.adapter.create_order(limit("dup-1", Side.BUY, "0.001", "29000"))

    with pytest.raises(DuplicateClientOrderId):
        await venue.adapter.create_order(limit("dup-1", Side.BUY, "0.002", "28000"))

    open_orders = await venue.adapter.fetch_open_orders(SYMBOL)
    assert [(o.client_order_id, o.amount) for o in open_orders] == [("dup-1", D("0.001"))]


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(limit("min-1", Side.BUY, "0.000001", "29000"), id="limit"),
        pytest.param(market("min-2", Side.BUY, "0.000001"), id="market"),
    ],
)
def test_amount_below_minimum_rejected_with_reason(
    adapter_factory: object, request_: OrderRequest
) -> None:
    @venue_scenario
    async def scenario(venue: VenueHarness) -> None:
        await venue.set_market(SYMBOL, BID, ASK)
        with pytest.raises(OrderRejected) as info:
            await venue.adapter.create_order(request_)
        assert not isinstance(info.value, InsufficientFunds)
        assert SYMBOL in info.value.reason
        assert "minimum" in info.value.reason
        assert "0.00001" in info.value.reason
        assert await venue.adapter.fetch_order(SYMBOL, request_.client_order_id) is None

    scenario(adapter_factory)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_", "notional"),
    [
        pytest.param(limit("cost-1", Side.BUY, "0.0001", "29000"), "2.9", id="limit"),
        pytest.param(market("cost-2", Side.BUY, "0.0001"), "3", id="market"),
    ],
)
def test_notional_below_min_cost_rejected_with_reason(
    adapter_factory: object, request_: OrderRequest, notional: str
) -> None:
    @venue_scenario
    async def scenario(venue: VenueHarness) -> None:
        await venue.set_market(SYMBOL, BID, ASK)
        with pytest.raises(OrderRejected) as info:
            await venue.adapter.create_order(request_)
        assert SYMBOL in info.value.reason
        assert notional in info.value.reason
        assert "5" in info.value.reason

    scenario(adapter_factory)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "rounded"),
    [
        pytest.param("29000.004", "29000.00", id="price_rounds_down_to_nearest_tick"),
        pytest.param("29000.006", "29000.01", id="price_rounds_up_to_nearest_tick"),
    ],
)
def test_amount_truncated_and_price_rounded_to_precision(
    adapter_factory: object, price: str, rounded: str
) -> None:
    @venue_scenario
    async def scenario(venue: VenueHarness) -> None:
        await venue.set_market(SYMBOL, BID, ASK)
        order = await venue.adapter.create_order(limit("prec-1", Side.BUY, "0.0012399", price))
        assert order.amount == D("0.00123")
        assert order.price == D(rounded)
        fetched = await venue.adapter.fetch_order(SYMBOL, "prec-1")
        assert fetched is not None and (fetched.amount, fetched.price) == (order.amount, D(rounded))

    scenario(adapter_factory)  # type: ignore[arg-type]


@venue_scenario
async def test_limit_buy_beyond_free_quote_is_insufficient_funds(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    free_usdt = (await balances(venue))["USDT"].free
    too_much = (free_usdt * 2 / D("29000")).quantize(D("0.00001"))

    with pytest.raises(InsufficientFunds) as info:
        await venue.adapter.create_order(limit("if-1", Side.BUY, str(too_much), "29000"))

    assert info.value.reason  # venues word it their own way (Binance names no asset)
    assert await venue.adapter.fetch_open_orders(SYMBOL) == []
    assert (await balances(venue))["USDT"].free == free_usdt


@venue_scenario
async def test_market_sell_beyond_free_base_is_insufficient_funds(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    free_btc = (await balances(venue))["BTC"].free

    with pytest.raises(InsufficientFunds) as info:
        await venue.adapter.create_order(market("if-2", Side.SELL, str(free_btc + D("0.1"))))

    assert info.value.reason
    assert (await balances(venue))["BTC"].free == free_btc


@venue_scenario
async def test_balances_after_buy_then_sell_match_fills(venue: VenueHarness) -> None:
    await venue.set_market(SYMBOL, BID, ASK)
    start = await balances(venue)

    await venue.adapter.create_order(market("rt-buy", Side.BUY, "0.01"))
    await venue.adapter.create_order(limit("rt-sell", Side.SELL, "0.005", "30500"))
    await venue.set_market(SYMBOL, D("30600"), D("30601"))
    await venue.advance()

    sold = await venue.adapter.fetch_order(SYMBOL, "rt-sell")
    assert sold is not None and sold.status is OrderStatus.CLOSED
    assert sold.average is not None and sold.average >= D("30500")
    fills = await venue.adapter.fetch_my_trades(SYMBOL)
    assert {f.client_order_id for f in fills} == {"rt-buy", "rt-sell"}
    maker = [f for f in fills if f.client_order_id == "rt-sell"]
    maker_fee = (await venue.adapter.load_markets())[SYMBOL].maker_fee
    for fill in maker:
        assert_fee_rate(fill, maker_fee)
    after = await balances(venue)
    assert {a: b.total for a, b in after.items()} == expected_totals(start, fills)
    assert after["BTC"].used == 0 and after["USDT"].used == 0
