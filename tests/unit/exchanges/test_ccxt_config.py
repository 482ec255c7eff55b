"""CcxtExchange construction for binance, bybit and okx (and refusals), without any network."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from exchanges.base import ExchangeAdapter, OrderStatus
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.ccxt.urls import rewrite_api_urls
from exchanges.errors import ExchangeConfigError

PROXY = "http://127.0.0.1:9"


def _all_urls(urls: Any) -> list[str]:
    if isinstance(urls, str):
        return [urls]
    return [u for value in urls.values() for u in _all_urls(value)]


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
@pytest.mark.parametrize("mode", ["testnet", "live"])
def test_supported_venues_configure_in_both_modes(venue: str, mode: str) -> None:
    adapter = CcxtExchange(
        venue,
        mode,
        "key",
        "secret",
        "pass",
        timeout=3.5,  # type: ignore[arg-type]
        enable_rate_limit=False,
    )
    client = adapter.client
    assert isinstance(adapter, ExchangeAdapter)
    assert adapter.name == f"ccxt:{venue}:{mode}"
    assert client.timeout == 3500
    assert client.enableRateLimit is False
    assert client.options["maxRetriesOnFailure"] == 0
    assert client.options["fetchMarkets"]["types"] == ["spot"]
    assert client.has["fetchCurrencies"] is False
    assert client.isSandboxModeEnabled is (mode == "testnet")


@pytest.mark.parametrize(
    ("venue", "marker"),
    [
        pytest.param("binance", "testnet.binance.vision", id="binance_spot_testnet"),
        pytest.param("bybit", "api-testnet", id="bybit_testnet_host"),
    ],
)
def test_testnet_points_at_the_venue_testnet(venue: str, marker: str) -> None:
    client = CcxtExchange(venue, "testnet", "key", "secret").client
    assert any(marker in url for url in _all_urls(client.urls["api"]))


def test_okx_testnet_sends_the_simulated_trading_header() -> None:
    client = CcxtExchange("okx", "testnet", "key", "secret", "pass").client
    assert client.headers["x-simulated-trading"] == "1"


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
def test_rest_url_replaces_every_host_and_keeps_paths(venue: str) -> None:
    client = CcxtExchange(venue, "testnet", "key", "secret", "pass", rest_url=PROXY).client
    urls = _all_urls(client.urls["api"])
    assert urls
    assert all(url.startswith(PROXY) for url in urls)
    if venue == "binance":
        assert client.urls["api"]["private"] == PROXY + "/api/v3"


def test_rewrite_handles_templates_and_nesting() -> None:
    urls = {"rest": "https://{hostname}", "nested": {"v5": "https://api.{hostname}/v5/x"}}
    assert rewrite_api_urls(urls, PROXY + "/") == {
        "rest": PROXY,
        "nested": {"v5": PROXY + "/v5/x"},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("okx", "live", "key", "secret"), "password", id="okx_without_password"),
        pytest.param(
            ("kraken", "testnet", "key", "secret"), "no testnet", id="kraken_has_no_testnet"
        ),
        pytest.param(
            ("coinbase", "testnet", "key", "secret"), "no testnet", id="coinbase_has_no_testnet"
        ),
        pytest.param(("notavenue", "live"), "unknown ccxt exchange", id="unknown_exchange"),
        pytest.param(("binance", "paper"), "mode", id="paper_is_not_a_ccxt_mode"),
    ],
)
def test_unusable_configuration_is_a_config_error(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ExchangeConfigError, match=message):
        CcxtExchange(*args)  # type: ignore[arg-type]


def test_venue_without_testnet_still_works_live() -> None:
    assert CcxtExchange("kraken", "live", "key", "secret").name == "ccxt:kraken:live"


SPOT_MARKET = {
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "spot": True,
    "precision": {"amount": 0.000001, "price": 0.1},
    "limits": {"amount": {"min": 0.000048, "max": 71}, "cost": {"min": 1}},
    "maker": 0.001,
    "taker": 0.001,
}


def _bybit_order(cid: str, status: str) -> dict[str, Any]:
    return {
        "id": "b-1",
        "clientOrderId": cid,
        "symbol": "BTC/USDT",
        "type": "limit",
        "side": "buy",
        "amount": 0.001,
        "price": 30000.0,
        "filled": 0.0,
        "status": status,
        "timestamp": 1_764_590_400_000,
        "fees": [{"currency": "USDT", "cost": 0.0}],
    }


def test_bybit_finds_client_ids_by_searching_open_then_closed_orders_then_stops() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    adapter = CcxtExchange("bybit", "testnet", "key", "secret")
    client = adapter.client

    async def load_markets(reload: bool = False) -> dict[str, Any]:
        return {"BTC/USDT": SPOT_MARKET}

    async def fetch_open_orders(
        symbol: str, since: Any, limit: Any, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        calls.append(("open", params))
        return []

    async def fetch_closed(
        symbol: str, since: Any, limit: Any, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        calls.append(("closed", params))
        wanted = params["orderLinkId"]
        return [_bybit_order(wanted, "canceled")] if wanted == "qtbot-known" else []

    client.load_markets = load_markets
    client.fetch_open_orders = fetch_open_orders
    client.fetch_canceled_and_closed_orders = fetch_closed

    async def scenario() -> None:
        found = await adapter.fetch_order("BTC/USDT", "qtbot-known")
        assert found is not None
        assert (found.status, found.client_order_id, found.exchange_order_id) == (
            OrderStatus.CANCELED,
            "qtbot-known",
            "b-1",
        )
        assert await adapter.fetch_order("BTC/USDT", "qtbot-unknown") is None

    asyncio.run(scenario())
    assert calls == [
        ("open", {"orderLinkId": "qtbot-known"}),
        ("closed", {"orderLinkId": "qtbot-known"}),
        ("open", {"orderLinkId": "qtbot-unknown"}),
        ("closed", {"orderLinkId": "qtbot-unknown"}),
        # Not a plain order: maybe a TP/SL stop, which bybit lists only under its own filter.
        ("open", {"orderLinkId": "qtbot-unknown", "orderFilter": "tpslOrder"}),
        ("closed", {"orderLinkId": "qtbot-unknown", "orderFilter": "tpslOrder"}),
    ]
