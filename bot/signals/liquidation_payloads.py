"""Turn raw exchange liquidation payloads into `LiquidationEvent`s. Pure.

(ccxt's unified structures are handled in `liquidation_ccxt.py`.) Which side a venue reports:

- binance `forceOrder`: `S` is the side of the liquidation ORDER (SELL closes a long).
- bybit `liquidation` / `allLiquidation`: `side`/`S` is the side of the liquidated POSITION
  ("Buy" means a long was liquidated), the opposite convention.
- okx `liquidation-orders`: `side` is the order side, `posSide` the position side (used
  when present).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.signals.liquidations import LiquidatedSide, LiquidationEvent


class SideMeaning(StrEnum):
    ORDER = "order"  # side of the liquidation order: sell => long liquidated
    POSITION = "position"  # side of the liquidated position: buy => long liquidated


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LINEAR_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD")


class LiquidationPayloadError(ValueError):
    """A payload that cannot be turned into events; the message says what is wrong."""


def to_decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise LiquidationPayloadError(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise LiquidationPayloadError(f"{name} {value!r} is not finite")
    return number


def time_from_ms(value: Any, name: str) -> datetime:
    try:
        millis = int(str(value))
    except (TypeError, ValueError):
        raise LiquidationPayloadError(f"{name} {value!r} is not a millisecond timestamp") from None
    return EPOCH + timedelta(milliseconds=millis)


def liquidated_side(raw_side: str, meaning: SideMeaning) -> LiquidatedSide:
    side = raw_side.strip().lower()
    if side not in ("buy", "sell"):
        raise LiquidationPayloadError(f"side {raw_side!r} is neither buy nor sell")
    long_liquidated = (side == "sell") if meaning is SideMeaning.ORDER else (side == "buy")
    return LiquidatedSide.LONG if long_liquidated else LiquidatedSide.SHORT


def unified_symbol(exchange_id: str) -> str:
    """Best-effort ccxt symbol for a linear/inverse perpetual id (BTCUSDT, BTC-USDT-SWAP)."""
    if exchange_id.endswith("-SWAP"):
        base, quote = exchange_id.split("-")[:2]
        settle = base if quote == "USD" else quote
        return f"{base}/{quote}:{settle}"
    core, _, expiry = exchange_id.partition("_")
    if expiry == "PERP":  # binance COIN-M perpetuals: BTCUSD_PERP
        expiry = ""
    for quote in _LINEAR_QUOTES:
        if core.endswith(quote) and len(core) > len(quote):
            symbol = f"{core[: -len(quote)]}/{quote}:{quote}"
            return f"{symbol}-{expiry}" if expiry else symbol
    if core.endswith("USD") and len(core) > 3:
        symbol = f"{core[:-3]}/USD:{core[:-3]}"
        return f"{symbol}-{expiry}" if expiry else symbol
    return exchange_id


def is_inverse_symbol(symbol: str) -> bool:
    base, _, rest = symbol.partition("/")
    settle = rest.partition(":")[2].partition("-")[0]
    return bool(settle) and settle == base


def _loads(message: Mapping[str, Any] | str | bytes) -> Any:
    if isinstance(message, str | bytes):
        try:
            return json.loads(message)
        except json.JSONDecodeError as exc:
            raise LiquidationPayloadError(f"invalid JSON: {exc.msg}") from None
    return message


def parse_binance_force_order(
    message: Mapping[str, Any] | str | bytes,
    contract_sizes: Mapping[str, Decimal] | None = None,
) -> list[LiquidationEvent]:
    """Binance `<symbol>@forceOrder` / `!forceOrder@arr` messages.

    Accepts a bare event, a combined-stream wrapper (`{"stream": ..., "data": ...}`) or a list.
    USD-M: notional = average price x filled quantity (`ap` x `z`), in USDT/USDC.
    COIN-M (`BTCUSD_PERP`): quantities are contracts of a fixed USD value, taken from
    `contract_sizes` (raw symbol -> USD per contract; 100 for BTCUSD, 10 for most others).
    """
    payload = _loads(message)
    if isinstance(payload, Mapping) and "data" in payload and "e" not in payload:
        payload = payload["data"]
    items = payload if isinstance(payload, list) else [payload]
    events: list[LiquidationEvent] = []
    for item in items:
        if not isinstance(item, Mapping) or item.get("e") != "forceOrder":
            raise LiquidationPayloadError("not a binance forceOrder event")
        order = item.get("o")
        if not isinstance(order, Mapping):
            raise LiquidationPayloadError("forceOrder event without an 'o' order object")
        raw_symbol = str(order.get("s", ""))
        symbol = unified_symbol(raw_symbol)
        price = to_decimal(order.get("ap") or "0", "average price")
        if price == 0:  # not filled at all: fall back on the order price
            price = to_decimal(order.get("p"), "price")
        amount = to_decimal(order.get("z") or order.get("q"), "quantity")
        if is_inverse_symbol(symbol):
            size = (contract_sizes or {}).get(raw_symbol)
            if size is None:
                raise LiquidationPayloadError(f"contract size unknown for {raw_symbol!r}")
            notional = amount * Decimal(size)
        else:
            notional = price * amount
        events.append(
            LiquidationEvent(
                time=time_from_ms(order.get("T", item.get("E")), "trade time"),
                exchange="binance",
                symbol=symbol,
                liquidated_side=liquidated_side(str(order.get("S", "")), SideMeaning.ORDER),
                quote_notional=notional,
                price=price,
                amount=amount,
            )
        )
    return events


def parse_bybit_liquidation(message: Mapping[str, Any] | str | bytes) -> list[LiquidationEvent]:
    """Bybit v5 `liquidation.<symbol>` (one object) and `allLiquidation.<symbol>` (a list).

    Bybit's side is the POSITION side. Linear (USDT/USDC) sizes are in the base coin; inverse
    (`...USD`) sizes are contracts worth 1 USD each, so they are the notional.
    """
    payload = _loads(message)
    if not isinstance(payload, Mapping):
        raise LiquidationPayloadError("bybit message is not an object")
    topic = str(payload.get("topic", ""))
    if not topic.startswith(("liquidation.", "allLiquidation.")):
        raise LiquidationPayloadError(f"not a bybit liquidation topic: {topic!r}")
    data = payload.get("data")
    items = data if isinstance(data, list) else [data]
    events: list[LiquidationEvent] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise LiquidationPayloadError("bybit liquidation without a data object")
        raw_symbol = str(item.get("symbol") or item.get("s") or topic.partition(".")[2])
        symbol = unified_symbol(raw_symbol)
        price = to_decimal(item.get("price", item.get("p")), "price")
        size = to_decimal(item.get("size", item.get("v")), "size")
        notional = size if is_inverse_symbol(symbol) else price * size
        raw_side = str(item.get("side") or item.get("S") or "")
        events.append(
            LiquidationEvent(
                time=time_from_ms(item.get("updatedTime", item.get("T")), "updatedTime"),
                exchange="bybit",
                symbol=symbol,
                liquidated_side=liquidated_side(raw_side, SideMeaning.POSITION),
                quote_notional=notional,
                price=price,
                amount=size,
            )
        )
    return events


def parse_okx_liquidation_orders(
    message: Mapping[str, Any] | str | bytes, contract_values: Mapping[str, Decimal]
) -> list[LiquidationEvent]:
    """OKX `liquidation-orders` push. `contract_values` maps instId -> ctVal (from OKX's
    instruments endpoint or ccxt's `contractSize`): base coin per contract for linear swaps,
    USD per contract for inverse ones. Instruments without a value are rejected."""
    payload = _loads(message)
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
        raise LiquidationPayloadError("okx message without a data list")
    arg = payload.get("arg")
    if not isinstance(arg, Mapping) or arg.get("channel") != "liquidation-orders":
        raise LiquidationPayloadError("not an okx liquidation-orders push")
    events: list[LiquidationEvent] = []
    for item in payload["data"]:
        inst_id = str(item.get("instId", "")) if isinstance(item, Mapping) else ""
        if inst_id not in contract_values:
            raise LiquidationPayloadError(f"okx contract value unknown for {inst_id!r}")
        symbol = unified_symbol(inst_id)
        ct_val = Decimal(contract_values[inst_id])
        for detail in item.get("details") or []:
            contracts = to_decimal(detail.get("sz"), "sz")
            price = to_decimal(detail.get("bkPx"), "bkPx")
            inverse = is_inverse_symbol(symbol)
            notional = contracts * ct_val if inverse else contracts * ct_val * price
            pos_side = str(detail.get("posSide", "")).lower()
            if pos_side in ("long", "short"):
                side = LiquidatedSide(pos_side)
            else:  # net mode reports posSide "net": fall back on the order side
                side = liquidated_side(str(detail.get("side", "")), SideMeaning.ORDER)
            events.append(
                LiquidationEvent(
                    time=time_from_ms(detail.get("ts"), "ts"),
                    exchange="okx",
                    symbol=symbol,
                    liquidated_side=side,
                    quote_notional=notional,
                    price=price,
                    amount=contracts if inverse else contracts * ct_val,
                )
            )
    return events
