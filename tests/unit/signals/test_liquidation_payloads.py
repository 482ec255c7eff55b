"""Recorded liquidation payloads (raw and ccxt-unified) -> LiquidationEvent."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.signals.liquidation_ccxt import events_from_ccxt
from bot.signals.liquidation_payloads import (
    LiquidationPayloadError,
    parse_binance_force_order,
    parse_bybit_liquidation,
    parse_okx_liquidation_orders,
    unified_symbol,
)
from bot.signals.liquidations import LiquidatedSide, LiquidationWindows
from tests.unit.signals.data_paths import FIXTURES

LIQ = FIXTURES / "liquidations"
LONG, SHORT = LiquidatedSide.LONG, LiquidatedSide.SHORT
OKX_CT_VAL = {
    "IOST-USDT-SWAP": Decimal("1000"),
    "BTC-USDT-SWAP": Decimal("0.01"),
    "BTC-USD-SWAP": Decimal("100"),
}


def load(name: str) -> Any:
    return json.loads((LIQ / name).read_text())


def test_binance_buy_order_is_a_liquidated_short() -> None:
    (event,) = parse_binance_force_order(load("binance_forceOrder.json"))
    assert event.exchange == "binance" and event.symbol == "BTC/USDT:USDT"
    assert event.liquidated_side is SHORT
    assert event.quote_notional == Decimal("1.437") * Decimal("34959.70")
    assert event.time == datetime(2023, 11, 1, 20, 42, 3, 59000, tzinfo=UTC)


def test_binance_all_market_stream_sell_orders_are_liquidated_longs() -> None:
    lines = (LIQ / "binance_forceOrder_arr.jsonl").read_text().splitlines()
    events = [e for line in lines for e in parse_binance_force_order(line)]
    assert [(e.symbol, e.liquidated_side) for e in events[:4]] == [
        ("BTC/USDT:USDT", LONG),
        ("ETH/USDT:USDT", LONG),
        ("1000PEPE/USDT:USDT", LONG),
        ("BTC/USDT:USDT", SHORT),
    ]
    assert events[0].quote_notional == Decimal("2.500") * Decimal("111874.10")
    # the fifth line repeats the first push: same key, dropped by the windows
    assert events[4].dedup_key == events[0].dedup_key
    assert len(LiquidationWindows().add_many(events)) == 4


def test_binance_coin_margined_needs_the_contract_size() -> None:
    message = {
        "e": "forceOrder",
        "E": 1,
        "o": {"s": "BTCUSD_PERP", "S": "SELL", "q": "30", "ap": "111900", "z": "30", "T": 1},
    }
    with pytest.raises(LiquidationPayloadError, match="contract size unknown"):
        parse_binance_force_order(message)
    (event,) = parse_binance_force_order(message, {"BTCUSD_PERP": Decimal(100)})
    assert event.symbol == "BTC/USD:BTC" and event.quote_notional == Decimal(3000)


def test_bybit_buy_means_a_liquidated_long() -> None:
    (event,) = parse_bybit_liquidation(load("bybit_liquidation.json"))
    assert (event.symbol, event.liquidated_side) == ("GALA/USDT:USDT", LONG)
    assert event.quote_notional == Decimal("0.03803") * Decimal("1637")


def test_bybit_all_liquidation_lists_and_inverse_sizes_in_usd() -> None:
    messages = load("bybit_allLiquidation.json")
    rose, btc, inverse = (parse_bybit_liquidation(m) for m in messages)
    assert [(e.symbol, e.liquidated_side) for e in rose] == [("ROSE/USDT:USDT", SHORT)]
    assert [e.liquidated_side for e in btc] == [LONG, LONG]
    assert sum(e.quote_notional for e in btc) == (
        Decimal("1.204") * Decimal("111650.20") + Decimal("0.350") * Decimal("111602.00")
    )
    assert inverse[0].symbol == "BTC/USD:BTC" and inverse[0].quote_notional == Decimal(25000)


def test_okx_uses_position_side_and_contract_values() -> None:
    iost, btc = (
        parse_okx_liquidation_orders(m, OKX_CT_VAL) for m in load("okx_liquidation_orders.json")
    )
    assert (iost[0].symbol, iost[0].liquidated_side) == ("IOST/USDT:USDT", SHORT)
    assert iost[0].quote_notional == Decimal(13) * Decimal(1000) * Decimal("0.007831")
    assert [(e.symbol, e.liquidated_side) for e in btc] == [
        ("BTC/USDT:USDT", LONG),
        ("BTC/USDT:USDT", LONG),  # posSide "net": order side sell => long
        ("BTC/USD:BTC", LONG),
    ]
    assert btc[0].quote_notional == Decimal(120) * Decimal("0.01") * Decimal("111402.1")
    assert btc[2].quote_notional == Decimal(400) * Decimal(100)


@pytest.mark.parametrize(
    ("key", "parser", "needle"),
    [
        pytest.param("binance_without_order", parse_binance_force_order, "'o'", id="binance_no_o"),
        pytest.param(
            "binance_bad_side",
            parse_binance_force_order,
            "neither buy nor sell",
            id="binance_side_close",
        ),
        pytest.param(
            "binance_bad_price", parse_binance_force_order, "not a number", id="binance_price_abc"
        ),
        pytest.param(
            "bybit_wrong_topic",
            parse_bybit_liquidation,
            "not a bybit liquidation",
            id="bybit_trade_topic",
        ),
        pytest.param(
            "okx_unknown_instrument",
            lambda m: parse_okx_liquidation_orders(m, OKX_CT_VAL),
            "contract value unknown",
            id="okx_unknown_instrument",
        ),
    ],
)
def test_malformed_payloads_are_rejected_with_a_reason(key: str, parser: Any, needle: str) -> None:
    with pytest.raises(LiquidationPayloadError, match=needle):
        parser(load("malformed.json")[key])


def test_invalid_json_text_is_rejected() -> None:
    with pytest.raises(LiquidationPayloadError, match="invalid JSON"):
        parse_binance_force_order('{"e": "forceOrder", ')


MARKETS: dict[str, dict[str, Any]] = {
    "binance": {"BTC/USD:BTC": {"contractSize": 100.0, "inverse": True}},
    "okx": {"BTC/USDT:USDT": {"contractSize": 0.01, "inverse": False}},
    "gate": {"BTC/USDT:USDT": {"contractSize": 0.0001, "inverse": False}},
    "htx": {"BTC/USDT:USDT": {"contractSize": 0.001, "inverse": False}},
}


@pytest.mark.parametrize(
    ("exchange", "index", "side", "notional"),
    [
        pytest.param("binance", 0, LONG, Decimal("2.5") * Decimal("111874.1"), id="binance_sell"),
        pytest.param("binance", 1, LONG, Decimal(3000), id="binance_coinm_inverse"),
        pytest.param("bybit", 0, LONG, Decimal("1.204") * Decimal("111650.2"), id="bybit_buy"),
        pytest.param(
            "okx",
            0,
            LONG,
            Decimal(120) * Decimal("0.01") * Decimal("111402.1"),
            id="okx_first_detail",
        ),
        pytest.param("gate", 0, SHORT, Decimal("463.155"), id="gate_negative_size"),
        pytest.param("htx", 0, SHORT, Decimal("125.957"), id="htx_position_side"),
    ],
)
def test_ccxt_structures_map_each_venue_side_convention(
    exchange: str, index: int, side: LiquidatedSide, notional: Decimal
) -> None:
    structure = load("ccxt_unified.json")[exchange][index]
    market = MARKETS.get(exchange, {}).get(structure["symbol"])
    events = events_from_ccxt(exchange, structure, market)
    assert events[0].liquidated_side is side
    assert events[0].quote_notional == notional


def test_ccxt_okx_push_with_several_details_yields_every_liquidation() -> None:
    structure = load("ccxt_unified.json")["okx"][0]
    events = events_from_ccxt("okx", structure, MARKETS["okx"]["BTC/USDT:USDT"])
    assert len(events) == 2  # ccxt itself keeps only details[0]
    assert events[1].quote_notional == Decimal(35) * Decimal("0.01") * Decimal("111388.0")


def test_ccxt_okx_without_contract_size_is_rejected_not_overstated() -> None:
    structure = load("ccxt_unified.json")["okx"][0]
    with pytest.raises(LiquidationPayloadError, match="contract size"):
        events_from_ccxt("okx", structure, None)


@pytest.mark.parametrize(
    ("exchange", "needle"),
    [
        pytest.param("deribit", "not known", id="deribit_has_no_side"),
        pytest.param("kraken", "not known", id="unknown_venue"),
    ],
)
def test_ccxt_structures_from_unsupported_venues_are_rejected(exchange: str, needle: str) -> None:
    structure = load("ccxt_unified.json")["deribit"][0]
    with pytest.raises(LiquidationPayloadError, match=needle):
        events_from_ccxt(exchange, structure)


def test_ccxt_htx_keeps_the_exchange_event_id() -> None:
    structure = load("ccxt_unified.json")["htx"][0]
    (event,) = events_from_ccxt("htx", structure, MARKETS["htx"]["BTC/USDT:USDT"])
    assert event.event_id == "150153038758"
    assert event.amount == Decimal("2.0") * Decimal("0.001")


@pytest.mark.parametrize(
    ("raw", "unified"),
    [
        pytest.param("BTCUSDT", "BTC/USDT:USDT", id="binance_linear"),
        pytest.param("1000PEPEUSDT", "1000PEPE/USDT:USDT", id="prefixed_base"),
        pytest.param("BTCUSD_PERP", "BTC/USD:BTC", id="binance_coinm_perp"),
        pytest.param("BTCUSDT_251226", "BTC/USDT:USDT-251226", id="binance_dated"),
        pytest.param("ETH-USDT-SWAP", "ETH/USDT:USDT", id="okx_linear"),
        pytest.param("BTC-USD-SWAP", "BTC/USD:BTC", id="okx_inverse"),
        pytest.param("BTCUSD", "BTC/USD:BTC", id="bybit_inverse"),
    ],
)
def test_unified_symbol_matches_ccxt_naming(raw: str, unified: str) -> None:
    assert unified_symbol(raw) == unified


def test_ccxt_fixture_is_what_the_installed_ccxt_produces() -> None:
    """Guards the side/size traps above against a ccxt upgrade changing its parsers."""

    spec = importlib.util.spec_from_file_location("make_ccxt_unified", LIQ / "make_ccxt_unified.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    produced = json.loads(json.dumps(asyncio.run(module.build()), sort_keys=True))
    assert produced == load("ccxt_unified.json")
