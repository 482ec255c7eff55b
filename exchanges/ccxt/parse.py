"""ccxt's unified dicts -> `exchanges.base` types. Pure functions; `now` is passed in.

ccxt hands numbers over as floats; they become Decimals through their shortest repr
(`Decimal(str(x))`), which is exact for the venue's decimal strings ccxt parsed them from.

A trade or order reply that cannot be read - an amount or price missing, unreadable, NaN,
infinite or negative, a trade without id, side or timestamp, an unknown side - raises
`MalformedReply` (an `ExchangeError`), never a bare ValueError, and is never filled in with
zeros or the current time. The adapter decides per row what a refusal means (a list reply
skips the row and reports it, a single order lookup fails).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from ccxt.base.decimal_to_precision import (  # type: ignore[import-untyped]  # ccxt ships no stubs
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
)

from exchanges.base import (
    Balance,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
)
from exchanges.errors import MalformedReply

log = structlog.get_logger(__name__)

_STATUS = {
    "open": OrderStatus.OPEN,
    "canceling": OrderStatus.OPEN,  # PENDING_CANCEL: not final yet
    "closed": OrderStatus.CLOSED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    result = Decimal(str(value))
    if isinstance(value, float) and result == result.to_integral_value():
        return result.quantize(Decimal(1))  # 50000.0 -> 50000, not 50000.0
    return result


def number(value: Any) -> Decimal | None:
    """`value` as a finite Decimal; None when absent, unreadable, NaN or infinite."""
    try:
        result = dec(value)
    except (ArithmeticError, ValueError, TypeError):  # decimal.InvalidOperation: not a number
        return None
    return result if result is not None and result.is_finite() else None


def non_negative(row: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    """`row[key]` as a finite, non-negative Decimal; None when absent. Present but unreadable,
    NaN, infinite or negative raises MalformedReply naming `what` (e.g. "trade 12")."""
    raw = row.get(key)
    if raw is None or raw == "":
        return None
    value = number(raw)
    if value is None or value < 0:
        raise MalformedReply(f"{what} has {key} {raw!r}")
    return value


def venue_time(ms: Any) -> datetime | None:
    """Milliseconds since the epoch -> aware UTC; None when absent or not a possible time."""
    value = number(ms)
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_ms(ms: Any, now: datetime) -> datetime:
    """The venue's time, `now` when the reply has none; an unreadable one is MalformedReply."""
    if ms is None:
        return now
    when = venue_time(ms)
    if when is None:
        raise MalformedReply(f"reply with timestamp {ms!r}")
    return when


def side_of(value: Any) -> Side | None:
    try:
        return Side(str(value).lower())
    except ValueError:
        return None


def _step(precision: Any, precision_mode: int) -> Decimal | None:
    value = dec(precision)
    if value is None or precision_mode == SIGNIFICANT_DIGITS:
        return None
    if precision_mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(value))
    return value


def to_market(m: Mapping[str, Any], precision_mode: int) -> Market | None:
    """A spot market, or None when ccxt lacks the precision to trade it safely."""
    precision = m.get("precision") or {}
    amount_step = _step(precision.get("amount"), precision_mode)
    price_tick = _step(precision.get("price"), precision_mode)
    if amount_step is None or price_tick is None or amount_step <= 0 or price_tick <= 0:
        return None
    limits = m.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    return Market(
        symbol=m["symbol"],
        base=m["base"],
        quote=m["quote"],
        amount_step=amount_step,
        price_tick=price_tick,
        min_amount=dec(amount_limits.get("min")),
        max_amount=dec(amount_limits.get("max")),
        min_cost=dec(cost_limits.get("min")),
        maker_fee=dec(m.get("maker")) or Decimal(0),
        taker_fee=dec(m.get("taker")) or Decimal(0),
    )


def to_ticker(t: Mapping[str, Any], symbol: str, now: datetime) -> Ticker:
    return Ticker(
        symbol=symbol,
        bid=dec(t.get("bid")),
        ask=dec(t.get("ask")),
        last=dec(t.get("last")),
        timestamp=from_ms(t.get("timestamp"), now),
    )


def _levels(rows: Iterable[Any]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(str(row[0])), Decimal(str(row[1]))) for row in rows)


def to_order_book(b: Mapping[str, Any], symbol: str, now: datetime) -> OrderBook:
    return OrderBook(
        symbol=symbol,
        bids=_levels(b.get("bids") or []),
        asks=_levels(b.get("asks") or []),
        timestamp=from_ms(b.get("timestamp"), now),
    )


def to_balances(b: Mapping[str, Any]) -> dict[str, Balance]:
    result: dict[str, Balance] = {}
    for asset in b.get("total") or {}:
        row = b.get(asset) or {}
        if all(row.get(key) is None for key in ("free", "used", "total")):
            # Zeros here would read as an emptied account and trip the kill switch.
            raise MalformedReply(f"balance reply without amounts for {asset}")
        free = dec(row.get("free")) or Decimal(0)
        used = dec(row.get("used")) or Decimal(0)
        total = dec(row.get("total"))
        result[asset] = Balance(asset, free, used, total if total is not None else free + used)
    return result


def fees_in_quote(
    fees: Iterable[Mapping[str, Any] | None], market: Market, price: Decimal | None
) -> Decimal | None:
    """Sum of fees converted to quote (a base fee at `price`); None when there are none.

    A fee in a third asset (e.g. BNB) has no price here: it is left out and logged.
    """
    total: Decimal | None = None
    for fee in fees:
        raw_cost = (fee or {}).get("cost")
        cost = number(raw_cost)
        if cost is None:
            if raw_cost not in (None, ""):
                log.warning("fee_unreadable", symbol=market.symbol, cost=str(raw_cost))
            continue
        currency = (fee or {}).get("currency")
        if currency in (None, market.quote):
            converted = cost
        elif currency == market.base and price is not None:
            converted = cost * price
        else:
            log.warning(
                "fee_not_convertible", symbol=market.symbol, currency=currency, cost=str(cost)
            )
            continue
        total = converted if total is None else total + converted
    return total


def order_fees(o: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    fees = o.get("fees") or []
    return list(fees) if fees else [o.get("fee")]


Markers = Sequence[tuple[str, Sequence[str]]]


def _matches(info: Mapping[str, Any], markers: Markers) -> bool | None:
    """Whether any marker field holds one of its values; None if no marker field is present."""
    seen = False
    for name, values in markers:
        if name in info and info[name] is not None:
            seen = True
            if str(info[name]).lower() in values:
                return True
    return False if seen else None


def stop_trigger(o: Mapping[str, Any]) -> Decimal | None:
    """The trigger price of a ccxt order dict, None for a plain order (ccxt reports 0 or None)."""
    for key in ("triggerPrice", "stopLossPrice", "stopPrice"):
        value = number(o.get(key))
        if value:
            return value
    return None


def to_order(
    o: Mapping[str, Any],
    *,
    client_order_id: str,
    market: Market,
    now: datetime,
    request: OrderRequest | None = None,
    fee: Decimal | None = None,
    untriggered: Markers = (),
) -> Order:
    """`client_order_id` is ours: venues echo something else on some replies (a Binance cancel
    reply carries the cancel's own id). `request` fills what an ACK-style reply leaves out;
    `fee` (quote) overrides the reply's fees when known from elsewhere.

    A reply with a trigger price (or for a stop `request`) is a STOP_LIMIT; it counts as
    triggered once it has fills, or when the raw reply (`info`) carries a field of
    `untriggered` whose value is not listed there."""
    raw_type = str(o.get("type") or (request.type if request else "limit")).lower()
    trigger = stop_trigger(o)
    if trigger is None and request is not None:
        trigger = request.trigger_price
    if trigger is not None and raw_type != "market":
        order_type = OrderType.STOP_LIMIT
    else:
        order_type = OrderType.MARKET if raw_type == "market" else OrderType.LIMIT
        trigger = None
    what = f"order reply for {client_order_id}"
    side = side_of(o.get("side") or (request.side if request else ""))
    if side is None:
        raise MalformedReply(f"{what} has side {o.get('side')!r}")
    amount = non_negative(o, "amount", what)
    if amount is None:
        amount = request.amount if request else Decimal(0)
    filled = non_negative(o, "filled", what) or Decimal(0)
    price = non_negative(o, "price", what) if order_type.has_limit_price else None
    if not price and request is not None and order_type.has_limit_price:
        price = request.price
    average = non_negative(o, "average", what) if filled > 0 else None
    if average is None and filled > 0:
        cost = number(o.get("cost"))
        if cost:
            average = cost / filled
    if fee is None:
        fee = fees_in_quote(order_fees(o), market, average or price)
    created = from_ms(o.get("timestamp"), now)
    updated_ms = o.get("lastUpdateTimestamp") or o.get("lastTradeTimestamp") or o.get("timestamp")
    if not o.get("status") and request is None:
        # Only a fresh placement may be assumed open; a looked-up order of unknown state may
        # be filled or canceled already.
        raise MalformedReply(f"order reply without a status for {client_order_id}")
    status = _STATUS.get(str(o.get("status") or "").lower(), OrderStatus.OPEN)
    if status is OrderStatus.OPEN and amount > 0 and filled >= amount:
        status = OrderStatus.CLOSED
    triggered = False
    if order_type.is_stop:
        waiting = _matches(o.get("info") or {}, untriggered)
        triggered = filled > 0 or status is OrderStatus.CLOSED or waiting is False
    return Order(
        client_order_id=client_order_id,
        exchange_order_id=None if o.get("id") is None else str(o["id"]),
        symbol=market.symbol,
        side=side,
        type=order_type,
        amount=amount,
        price=price if price else None,
        status=status,
        filled=filled,
        average=average,
        fee=fee or Decimal(0),
        created_at=created,
        updated_at=from_ms(updated_ms, created),
        trigger_price=trigger,
        triggered=triggered,
    )


def to_fill(t: Mapping[str, Any], *, client_order_id: str | None, market: Market) -> Fill:
    """One trade row. Raises MalformedReply when the row lacks what a fill cannot be guessed
    without: an id, a positive amount and price, a side, the venue's timestamp. A zero fill
    stored under the venue's trade id would hide the real one for good; a fill stamped with
    our clock could move the fill cursor past fills the venue has not reported yet."""
    trade_id = t.get("id")
    if trade_id is None or str(trade_id) == "":
        raise MalformedReply(f"trade row of order {t.get('order')} without an id")
    what = f"trade {trade_id}"
    amount = non_negative(t, "amount", what)
    price = non_negative(t, "price", what)
    if not amount or not price:
        missing = "amount" if not amount else "price"
        raise MalformedReply(f"{what} without a positive {missing}")
    side = side_of(t.get("side"))
    if side is None:
        raise MalformedReply(f"{what} has side {t.get('side')!r}")
    timestamp = venue_time(t.get("timestamp"))
    if timestamp is None:
        raise MalformedReply(f"{what} without a readable timestamp ({t.get('timestamp')!r})")
    fee = t.get("fee") or {}
    fee_cost = number(fee.get("cost"))
    if fee_cost is None and fee.get("cost") not in (None, ""):
        log.warning("fee_unreadable", symbol=market.symbol, trade_id=str(trade_id))
    return Fill(
        trade_id=str(trade_id),
        client_order_id=client_order_id,
        exchange_order_id=None if t.get("order") is None else str(t["order"]),
        symbol=market.symbol,
        side=side,
        amount=amount,
        price=price,
        fee=fee_cost or Decimal(0),
        fee_asset=str(fee.get("currency") or market.quote),
        timestamp=timestamp,
        is_maker=t.get("takerOrMaker") == "maker",
    )
