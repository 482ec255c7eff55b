"""Symbols the emulator lists, with Binance-style filters, and number formatting helpers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

EIGHT_PLACES = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One spot symbol: LOT_SIZE (`step`, `min_qty`, `max_qty`), PRICE_FILTER (`tick`,
    `min_price`, `max_price`), NOTIONAL (`min_notional`, quote currency)."""

    symbol: str
    base: str
    quote: str
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    tick: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal
    default_bid: Decimal
    default_ask: Decimal


SYMBOLS: dict[str, SymbolSpec] = {
    spec.symbol: spec
    for spec in (
        SymbolSpec(
            "BTCUSDT",
            "BTC",
            "USDT",
            step=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
            max_qty=Decimal("9000"),
            tick=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal("1000000"),
            min_notional=Decimal("5"),
            default_bid=Decimal("50000.00"),
            default_ask=Decimal("50010.00"),
        ),
        SymbolSpec(
            "ETHUSDT",
            "ETH",
            "USDT",
            step=Decimal("0.0001"),
            min_qty=Decimal("0.0001"),
            max_qty=Decimal("9000"),
            tick=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal("1000000"),
            min_notional=Decimal("5"),
            default_bid=Decimal("3000.00"),
            default_ask=Decimal("3001.00"),
        ),
        SymbolSpec(
            "SOLUSDT",
            "SOL",
            "USDT",
            step=Decimal("0.001"),
            min_qty=Decimal("0.001"),
            max_qty=Decimal("90000"),
            tick=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal("100000"),
            min_notional=Decimal("5"),
            default_bid=Decimal("150.00"),
            default_ask=Decimal("150.05"),
        ),
    )
}

DEFAULT_BALANCES: dict[str, Decimal] = {
    "USDT": Decimal("100000"),
    "BTC": Decimal("1"),
    "ETH": Decimal("10"),
    "SOL": Decimal("100"),
}


def fmt(x: Decimal | None) -> str:
    """Binance renders every number as a string with 8 decimals."""
    return f"{(x or Decimal(0)).quantize(EIGHT_PLACES):f}"


def symbol_id(symbol: str) -> str:
    """Accept both the exchange id ("BTCUSDT") and the unified form ("BTC/USDT")."""
    return symbol.replace("/", "").upper()


def filters(spec: SymbolSpec) -> list[dict[str, Any]]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(spec.min_price),
            "maxPrice": fmt(spec.max_price),
            "tickSize": fmt(spec.tick),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": fmt(spec.min_qty),
            "maxQty": fmt(spec.max_qty),
            "stepSize": fmt(spec.step),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": fmt(spec.min_notional),
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
    ]


def symbol_info(spec: SymbolSpec) -> dict[str, Any]:
    """The `symbols[]` entry of GET /api/v3/exchangeInfo, as ccxt's parse_market reads it."""
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters(spec),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def exchange_info(server_time_ms: int, only: list[str] | None = None) -> dict[str, Any]:
    specs = [s for s in SYMBOLS.values() if only is None or s.symbol in only]
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(s) for s in specs],
    }
