"""ccxt's unified liquidation structures -> `LiquidationEvent`s. Pure.

Traps in ccxt 4.5.90 that this module works around (checked against its source):
- `side` is each venue's raw field, lower-cased: binance and okx report the ORDER side
  (sell = long liquidated), bybit the POSITION side (buy = long liquidated), gate's parser
  derives it from the position size sign (buy = long), htx gives the order side and adds
  `position_side` in `info` for swaps. The meaning per venue is in `VENUE_QUIRKS`.
- The websocket parsers call `safe_liquidation` without the market, so `contractSize`,
  `baseValue` and `quoteValue` come back None even with markets loaded: pass the ccxt market
  (`client.markets[symbol]`) for its contract size.
- For inverse contracts `safe_liquidation` would multiply a USD contract value by the price;
  the inverse notional here is contracts x contract size (USD).
- okx's parser keeps only the first entry of a push's `details`; the others are recovered
  from `info` (`expand_details`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.signals.liquidation_payloads import (
    LiquidationPayloadError,
    SideMeaning,
    is_inverse_symbol,
    liquidated_side,
    time_from_ms,
    to_decimal,
)
from bot.signals.liquidations import LiquidatedSide, LiquidationEvent


@dataclass(frozen=True)
class VenueQuirks:
    side_meaning: SideMeaning
    linear_amount_in_base: bool  # linear `contracts` are base-coin amounts (contract size 1)
    expand_details: bool = False  # okx: several liquidations per `info.details`


VENUE_QUIRKS: dict[str, VenueQuirks] = {
    "binance": VenueQuirks(SideMeaning.ORDER, linear_amount_in_base=True),
    "bybit": VenueQuirks(SideMeaning.POSITION, linear_amount_in_base=True),
    "okx": VenueQuirks(SideMeaning.ORDER, linear_amount_in_base=False, expand_details=True),
    "gate": VenueQuirks(SideMeaning.POSITION, linear_amount_in_base=False),
    "htx": VenueQuirks(SideMeaning.ORDER, linear_amount_in_base=False),
}


@dataclass(frozen=True)
class _Record:
    timestamp: Any
    contracts: Any
    price: Any
    side: Any
    position_side: str


def events_from_ccxt(
    exchange: str, liquidation: Mapping[str, Any], market: Mapping[str, Any] | None = None
) -> list[LiquidationEvent]:
    """Events in one ccxt liquidation structure (several for an okx push with many details).

    `market` is ccxt's market for the symbol (contract size, inverse flag); raises
    `LiquidationPayloadError` when the side or the notional cannot be established.
    """
    quirks = VENUE_QUIRKS.get(exchange)
    if quirks is None:
        raise LiquidationPayloadError(f"liquidation conventions of {exchange!r} are not known")
    market = market or {}
    symbol = liquidation.get("symbol") or market.get("symbol")
    if not symbol:
        raise LiquidationPayloadError("ccxt liquidation without a symbol")
    raw_info = liquidation.get("info")
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, Mapping) else {}
    size_raw = liquidation.get("contractSize") or market.get("contractSize")
    size = None if size_raw is None else to_decimal(size_raw, "contractSize")
    inverse = bool(market["inverse"]) if "inverse" in market else is_inverse_symbol(str(symbol))
    records = _records(liquidation, info, quirks)
    single = len(records) == 1
    events: list[LiquidationEvent] = []
    for record in records:
        if record.timestamp is None:
            raise LiquidationPayloadError("ccxt liquidation without a timestamp")
        contracts = _abs_or_none(record.contracts, "contracts")
        price = _abs_or_none(record.price, "price")
        notional, amount = _notional(
            str(symbol),
            contracts,
            price,
            size,
            inverse,
            quirks,
            liquidation.get("quoteValue") if single else None,
        )
        event_id = (info.get("id") or info.get("query_id")) if single else None
        events.append(
            LiquidationEvent(
                time=time_from_ms(record.timestamp, "timestamp"),
                exchange=exchange,
                symbol=str(symbol),
                liquidated_side=_side(record, quirks),
                quote_notional=notional,
                event_id=None if event_id is None else str(event_id),
                price=price,
                amount=amount,
            )
        )
    return events


def _records(
    liquidation: Mapping[str, Any], info: Mapping[str, Any], quirks: VenueQuirks
) -> list[_Record]:
    details = info.get("details")
    if isinstance(details, list) and details and all(isinstance(d, Mapping) for d in details):
        if quirks.expand_details:
            return [
                _Record(
                    d.get("ts"),
                    d.get("sz"),
                    d.get("bkPx"),
                    d.get("side"),
                    str(d.get("posSide") or ""),
                )
                for d in details
            ]
        info = details[0]
    position = str(info.get("posSide") or info.get("position_side") or "")
    return [
        _Record(
            liquidation.get("timestamp"),
            liquidation.get("contracts"),
            liquidation.get("price"),
            liquidation.get("side"),
            position,
        )
    ]


def _side(record: _Record, quirks: VenueQuirks) -> LiquidatedSide:
    position = record.position_side.lower()
    if position in ("long", "short"):
        return LiquidatedSide(position)
    if not record.side:
        raise LiquidationPayloadError("ccxt liquidation without a side")
    return liquidated_side(str(record.side), quirks.side_meaning)


def _abs_or_none(value: Any, name: str) -> Decimal | None:
    return None if value is None else abs(to_decimal(value, name))


def _notional(
    symbol: str,
    contracts: Decimal | None,
    price: Decimal | None,
    size: Decimal | None,
    inverse: bool,
    quirks: VenueQuirks,
    quote_value: Any,
) -> tuple[Decimal, Decimal | None]:
    """(quote notional, amount): amount is base coin for linear, contracts for inverse."""
    if inverse:
        if contracts is None or size is None:
            raise LiquidationPayloadError(f"inverse {symbol}: contracts or contract size missing")
        return contracts * size, contracts
    base: Decimal | None = None
    if contracts is not None and size is not None:
        base = contracts * size
    elif contracts is not None and quirks.linear_amount_in_base:
        base = contracts
    if quote_value is not None:
        return abs(to_decimal(quote_value, "quoteValue")), base
    if base is None or price is None:
        raise LiquidationPayloadError(f"{symbol}: contract size or price unknown, no notional")
    return base * price, base
