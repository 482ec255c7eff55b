"""CcxtExchange (real ccxt, real HTTP) against the loopback Binance emulator: happy paths,
rounding and limit checks, lookups by client order id."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.errors import (
    DuplicateClientOrderId,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RetryableError,
)
from tests.contract.ccxt_factory import build_adapter
from tests.emulator import EmulatorHandle

BTC = "BTC/USDT"
Scenario = Callable[[CcxtExchange], Awaitable[None]]


def run(emulator: EmulatorHandle, scenario: Scenario, **overrides: Any) -> None:
    async def main() -> None:
        adapter = build_adapter(emulator, **overrides)
        try:
            await scenario(adapter)
        finally:
            await adapter.close()

    asyncio.run(main())


def limit(cid: str, side: Side, amount: str, price: str, symbol: str = BTC) -> OrderRequest:
    return OrderRequest(cid, symbol, side, OrderType.LIMIT, D(amount), D(price))


def market(cid: str, side: Side, amount: str) -> OrderRequest:
    return OrderRequest(cid, BTC, side, OrderType.MARKET, D(amount))


def test_load_markets_reads_binance_filters_from_exchange_info_only(
    emulator: EmulatorHandle,
) -> None:
    async def scenario(adapter: CcxtExchange) -> None:
        markets = await adapter.load_markets()
        assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        btc = markets[BTC]
        assert (btc.amount_step, btc.price_tick, btc.min_amount, btc.min_cost) == (
            D("0.00001"),
            D("0.01"),
            D("0.00001"),
            D("5"),
        )
        assert btc.taker_fee == D("0.001")

    run(emulator, scenario)
    assert {r["path"] for r in emulator.requests()} == {"/api/v3/exchangeInfo"}


def test_markets_are_reused_until_max_age_then_refreshed(emulator: EmulatorHandle) -> None:
    now = [datetime(2025, 12, 1, tzinfo=UTC)]

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.load_markets()
        await adapter.fetch_ticker(BTC)
        now[0] += timedelta(minutes=11)
        await adapter.fetch_ticker(BTC)

    run(emulator, scenario, clock=lambda: now[0], markets_max_age=timedelta(minutes=10))
    assert len(emulator.requests(path="/api/v3/exchangeInfo")) == 2


def test_failed_periodic_refresh_keeps_trading_on_known_markets(
    emulator: EmulatorHandle,
) -> None:
    now = [datetime(2025, 12, 1, tzinfo=UTC)]

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.load_markets()
        emulator.add_fault("status", path="/api/v3/exchangeInfo", status=503, times=None)
        now[0] += timedelta(hours=2)
        assert (await adapter.fetch_ticker(BTC)).bid == D(50000)
        with pytest.raises(RetryableError):
            await adapter.load_markets(reload=True)  # an explicit reload does report it

    run(emulator, scenario, clock=lambda: now[0])


def test_ticker_book_and_balances_follow_the_scripted_venue(emulator: EmulatorHandle) -> None:
    emulator.set_market(BTC, "60000", "60002", levels=3, qty="0.5", gap="1", last="60001")
    emulator.set_balances(USDT="1234.5", BTC="0.25")

    async def scenario(adapter: CcxtExchange) -> None:
        ticker = await adapter.fetch_ticker(BTC)
        assert (ticker.bid, ticker.ask, ticker.last) == (D(60000), D(60002), D(60001))
        book = await adapter.fetch_order_book(BTC, limit=2)
        assert book.bids == ((D(60000), D("0.5")), (D(59999), D("0.5")))
        assert book.asks == ((D(60002), D("0.5")), (D(60003), D("0.5")))
        balances = await adapter.fetch_balances()
        assert (balances["USDT"].free, balances["BTC"].total) == (D("1234.5"), D("0.25"))

    run(emulator, scenario)


def test_market_buy_fills_with_fee_converted_to_quote(emulator: EmulatorHandle) -> None:
    emulator.set_levels(BTC, bids=[(49990, 1)], asks=[(50000, "0.01"), (50010, 1)])

    async def scenario(adapter: CcxtExchange) -> None:
        order = await adapter.create_order(market("qtbot-mkt-1", Side.BUY, "0.02"))
        assert (order.status, order.filled, order.client_order_id) == (
            OrderStatus.CLOSED,
            D("0.02"),
            "qtbot-mkt-1",
        )
        assert order.average == D("50005")
        # 0.1 % taken in BTC on each fill, valued at the order's average price.
        assert order.fee == D("0.00002") * D("50005")
        fills = await adapter.fetch_my_trades(BTC)
        assert [(f.price, f.fee, f.fee_asset, f.is_maker) for f in fills] == [
            (D(50000), D("0.00001"), "BTC", False),
            (D(50010), D("0.00001"), "BTC", False),
        ]
        assert {f.client_order_id for f in fills} == {"qtbot-mkt-1"}

    run(emulator, scenario)


def test_resting_limit_is_found_by_client_id_and_fills_when_crossed(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_market(BTC, "50000", "50010")

    async def scenario(adapter: CcxtExchange) -> None:
        placed = await adapter.create_order(limit("qtbot-lim-1", Side.SELL, "0.02", "51000"))
        assert (placed.status, placed.filled, placed.price) == (OrderStatus.OPEN, 0, D(51000))
        balances = await adapter.fetch_balances()
        assert balances["BTC"].used == D("0.02")
        assert [o.client_order_id for o in await adapter.fetch_open_orders(BTC)] == ["qtbot-lim-1"]

        await asyncio.to_thread(emulator.set_levels, BTC, [(51005, "0.005")], [(51010, 1)])
        partial = await adapter.fetch_order(BTC, "qtbot-lim-1")
        assert partial is not None
        assert (partial.status, partial.filled) == (OrderStatus.OPEN, D("0.005"))
        assert partial.fee == D("0.005") * D(51000) * D("0.001")  # from myTrades

        await asyncio.to_thread(emulator.set_levels, BTC, [(51100, 1)], [(51110, 1)])
        done = await adapter.fetch_order(BTC, "qtbot-lim-1")
        assert done is not None
        assert (done.status, done.filled, done.average) == (OrderStatus.CLOSED, D("0.02"), D(51000))
        assert await adapter.fetch_open_orders() == []

    run(emulator, scenario)


def test_cancel_returns_our_client_id_and_unknown_cancel_is_not_found(
    emulator: EmulatorHandle,
) -> None:
    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(limit("qtbot-cx-1", Side.BUY, "0.001", "40000"))
        canceled = await adapter.cancel_order(BTC, "qtbot-cx-1")
        assert (canceled.status, canceled.client_order_id) == (OrderStatus.CANCELED, "qtbot-cx-1")
        with pytest.raises(OrderNotFound):
            await adapter.cancel_order(BTC, "qtbot-cx-1")
        assert await adapter.fetch_order(BTC, "qtbot-never-sent") is None

    run(emulator, scenario)


def test_open_orders_without_symbol_span_all_markets(emulator: EmulatorHandle) -> None:
    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(limit("qtbot-oo-1", Side.BUY, "0.001", "40000"))
        await adapter.create_order(limit("qtbot-oo-2", Side.BUY, "0.01", "2000", "ETH/USDT"))
        everywhere = {o.client_order_id for o in await adapter.fetch_open_orders()}
        assert everywhere == {"qtbot-oo-1", "qtbot-oo-2"}
        eth = await adapter.fetch_open_orders("ETH/USDT")
        assert [o.client_order_id for o in eth] == ["qtbot-oo-2"]

    run(emulator, scenario)


def test_amount_is_truncated_and_price_rounded_before_sending(emulator: EmulatorHandle) -> None:
    async def scenario(adapter: CcxtExchange) -> None:
        order = await adapter.create_order(
            limit("qtbot-round-1", Side.BUY, "0.0012349", "40000.006")
        )
        assert (order.amount, order.price) == (D("0.00123"), D("40000.01"))

    run(emulator, scenario)
    sent = emulator.state()["orders"][0]
    assert (sent["origQty"], sent["price"]) == ("0.00123000", "40000.01000000")


@pytest.mark.parametrize(
    ("request_", "reason_part"),
    [
        pytest.param(
            limit("qtbot-small-1", Side.BUY, "0.000004", "40000"), "amount", id="below_min_amount"
        ),
        pytest.param(
            limit("qtbot-small-2", Side.BUY, "0.0001", "40000"),
            "notional",
            id="limit_below_min_notional",
        ),
        pytest.param(
            market("qtbot-small-3", Side.BUY, "0.00009"),
            "notional",
            id="market_below_min_notional_at_best_ask",
        ),
        pytest.param(
            limit("qtbot bad id", Side.BUY, "0.001", "40000"),
            "client order id",
            id="client_id_with_space",
        ),
        pytest.param(
            limit("qtbot-sym-1", Side.BUY, "1", "1", "DOGE/USDT"),
            "not a spot market",
            id="unknown_symbol",
        ),
    ],
)
def test_orders_failing_local_checks_are_rejected_without_sending(
    emulator: EmulatorHandle, request_: OrderRequest, reason_part: str
) -> None:
    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(OrderRejected) as caught:
            await adapter.create_order(request_)
        assert reason_part in caught.value.reason

    run(emulator, scenario)
    assert emulator.requests("POST", "/api/v3/order") == []


def test_venue_refusals_map_to_their_error_types(emulator: EmulatorHandle) -> None:
    emulator.set_balances(USDT="100")

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(InsufficientFunds):
            await adapter.create_order(limit("qtbot-poor-1", Side.BUY, "0.01", "40000"))
        await adapter.create_order(limit("qtbot-dup-1", Side.BUY, "0.001", "40000"))
        with pytest.raises(DuplicateClientOrderId):
            await adapter.create_order(limit("qtbot-dup-1", Side.BUY, "0.001", "40000"))

    run(emulator, scenario)


def test_trades_since_and_client_ids_after_a_restart(emulator: EmulatorHandle) -> None:
    async def place(adapter: CcxtExchange) -> None:
        await adapter.create_order(market("qtbot-rs-1", Side.SELL, "0.001"))

    run(emulator, place)
    cutoff = datetime.now(UTC) + timedelta(milliseconds=5)

    async def later(adapter: CcxtExchange) -> None:
        await asyncio.sleep(0.01)
        await adapter.create_order(market("qtbot-rs-2", Side.SELL, "0.001"))

    run(emulator, later)

    async def restarted(adapter: CcxtExchange) -> None:
        every = await adapter.fetch_my_trades(BTC)
        assert [f.client_order_id for f in every] == ["qtbot-rs-1", "qtbot-rs-2"]
        recent = await adapter.fetch_my_trades(BTC, since=cutoff)
        assert [f.client_order_id for f in recent] == ["qtbot-rs-2"]

    run(emulator, restarted)


def test_live_mode_through_rest_url_speaks_the_same_api(emulator: EmulatorHandle) -> None:
    async def main() -> None:
        adapter = CcxtExchange(
            "binance",
            "live",
            emulator.api_key,
            emulator.api_secret,
            rest_url=emulator.url,
            timeout=2.0,
            enable_rate_limit=False,
        )
        adapter.client.timeout_on_exit = 0
        try:
            assert adapter.name == "ccxt:binance:live"
            order = await adapter.create_order(market("qtbot-live-1", Side.SELL, "0.001"))
            assert order.status is OrderStatus.CLOSED
        finally:
            await adapter.close()

    asyncio.run(main())
    assert {r["path"] for r in emulator.requests()} == {
        "/api/v3/exchangeInfo",
        "/api/v3/ticker/24hr",
        "/api/v3/order",
    }
