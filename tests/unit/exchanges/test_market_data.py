"""Market data sources: scripted data for tests/backtests, ccxt public data over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from exchanges.base import OrderBook, Ticker
from exchanges.ccxt.public_data import CcxtPublicData, market_from_ccxt
from exchanges.ccxt.urls import rewrite_api_urls
from exchanges.errors import ExchangeError, RetryableError
from exchanges.market_data import Candle, StaticMarketData, scripted_book
from tests.unit.exchanges.paper_kit import BTC_USDT, SYMBOL, T0, D, run

# -- StaticMarketData ---------------------------------------------------------------------------


def test_static_book_defines_ticker_and_is_trimmed_to_limit() -> None:
    data = StaticMarketData([BTC_USDT])
    data.set_order_book(scripted_book(SYMBOL, D("100"), D("101"), D("2"), 5, T0))

    ticker = run(data.fetch_ticker(SYMBOL))
    book = run(data.fetch_order_book(SYMBOL, limit=2))

    assert (ticker.bid, ticker.ask, ticker.last) == (D("100"), D("101"), D("100"))
    assert book.bids == ((D("100"), D("2")), (D("99"), D("2")))
    assert book.asks == ((D("101"), D("2")), (D("102"), D("2")))


def test_static_candle_sets_close_as_ticker_and_clears_book() -> None:
    data = StaticMarketData([BTC_USDT])
    data.set_order_book(scripted_book(SYMBOL, D("100"), D("101"), D("2"), 5, T0))
    data.set_candle(SYMBOL, Candle(T0, D("100"), D("110"), D("90"), D("105")))

    ticker = run(data.fetch_ticker(SYMBOL))
    book = run(data.fetch_order_book(SYMBOL))

    assert ticker == Ticker(SYMBOL, D("105"), D("105"), D("105"), T0)
    assert book == OrderBook(SYMBOL, (), (), T0)


def test_static_unknown_symbol_raises_exchange_error() -> None:
    with pytest.raises(ExchangeError, match="no market data for ETH/USDT"):
        run(StaticMarketData([BTC_USDT]).fetch_ticker("ETH/USDT"))


# -- ccxt market conversion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "amount", "price", "step", "tick"),
    [
        pytest.param(4, 0.00001, 0.01, D("0.00001"), D("0.01"), id="tick_size"),
        pytest.param(2, 5, 2, D("0.00001"), D("0.01"), id="decimal_places"),
    ],
)
def test_market_from_ccxt_precision_modes(
    mode: int, amount: float, price: float, step: Decimal, tick: Decimal
) -> None:
    raw = {
        "symbol": SYMBOL,
        "base": "BTC",
        "quote": "USDT",
        "precision": {"amount": amount, "price": price},
        "limits": {"amount": {"min": 1e-05, "max": 9000.0}, "cost": {"min": 5.0}},
        "maker": 0.001,
        "taker": 0.001,
    }

    market = market_from_ccxt(raw, mode)

    assert (market.amount_step, market.price_tick) == (step, tick)
    assert (market.min_amount, market.min_cost, market.taker_fee) == (
        D("0.00001"),
        D("5.0"),
        D("0.001"),
    )


def test_rewrite_urls_keeps_each_path_on_the_new_base() -> None:
    api = {
        "public": "https://api.binance.com/api/v3",
        "fapi": {"x": "https://fapi.binance.com/fapi/v1"},
    }

    assert rewrite_api_urls(api, "http://127.0.0.1:9/") == {
        "public": "http://127.0.0.1:9/api/v3",
        "fapi": {"x": "http://127.0.0.1:9/fapi/v1"},
    }


# -- CcxtPublicData over a loopback Binance ----------------------------------------------------

EXCHANGE_INFO = {
    "timezone": "UTC",
    "serverTime": 1764590400000,
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "orderTypes": ["LIMIT", "MARKET"],
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01",
                    "maxPrice": "1000000.00",
                    "tickSize": "0.01",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.00001",
                    "maxQty": "9000.00000000",
                    "stepSize": "0.00001",
                },
                {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
            ],
        }
    ],
}


@asynccontextmanager
async def fake_binance(requests: list[str], fail_depth: bool = False) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        requests.append(request.path)
        body: Any
        if request.path == "/api/v3/exchangeInfo":
            body = EXCHANGE_INFO
        elif request.path == "/api/v3/ticker/24hr":
            body = {
                "symbol": "BTCUSDT",
                "bidPrice": "29999.99",
                "askPrice": "30000.00",
                "lastPrice": "30000.00",
                "closeTime": 1764590400000,
                "openTime": 1764504000000,
            }
        elif request.path == "/api/v3/depth" and not fail_depth:
            body = {
                "lastUpdateId": 1,
                "bids": [["29999.99", "0.5"], ["29999.98", "1.25"]],
                "asks": [["30000.00", "0.75"]],
            }
        else:
            return web.Response(status=503, text="maintenance")
        return web.Response(text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_ccxt_public_data_reads_markets_ticker_and_book_without_keys() -> None:
    requests: list[str] = []

    async def scenario() -> None:
        async with fake_binance(requests) as url:
            data = CcxtPublicData("binance", rest_url=url)
            try:
                markets = await data.load_markets()
                ticker = await data.fetch_ticker(SYMBOL)
                book = await data.fetch_order_book(SYMBOL, limit=5)
            finally:
                await data.close()
        assert list(markets) == [SYMBOL]
        market = markets[SYMBOL]
        assert (market.amount_step, market.price_tick) == (D("0.00001"), D("0.01"))
        assert (market.min_amount, market.min_cost) == (D("0.00001"), D("5"))
        assert (ticker.bid, ticker.ask, ticker.last) == (D("29999.99"), D("30000.00"), D("30000"))
        assert book.bids == ((D("29999.99"), D("0.5")), (D("29999.98"), D("1.25")))
        assert book.asks == ((D("30000.00"), D("0.75")),)

    run(scenario())
    assert requests == ["/api/v3/exchangeInfo", "/api/v3/ticker/24hr", "/api/v3/depth"]


def test_ccxt_public_data_maps_server_errors_to_retryable() -> None:
    async def scenario() -> None:
        async with fake_binance([], fail_depth=True) as url:
            data = CcxtPublicData("binance", rest_url=url)
            try:
                await data.load_markets()
                with pytest.raises(RetryableError):
                    await data.fetch_order_book(SYMBOL)
            finally:
                await data.close()

    run(scenario())
