"""The exchange contract: domain types and the `ExchangeAdapter` protocol.

Every venue (the paper engine, the ccxt adapter) speaks only these types. Amounts and prices are
`Decimal`; amounts are in base currency, prices and costs in quote currency, fees in quote
currency unless `Fill.fee_asset` says otherwise. Datetimes are timezone-aware UTC.

Stop orders (protective stops resting on the venue) are `OrderType.STOP_LIMIT` requests with a
`trigger_price`; what each venue supports, and the `replace_stop` operation, are described in
`exchanges.stops` (`VenueCapabilities`, `StopOrderAdapter`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_LIMIT = "stop_limit"
    """Rests untriggered until the market trades at or through `trigger_price` (a sell: down to
    it; a buy: up to it), then works as a LIMIT order at `price`."""

    @property
    def is_stop(self) -> bool:
        return self is OrderType.STOP_LIMIT

    @property
    def has_limit_price(self) -> bool:
        return self is not OrderType.MARKET


class OrderStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # fully filled
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


def format_decimal(x: Decimal) -> str:
    """Plain notation without exponent or trailing zeros (`1E-5` -> `0.00001`), for reasons."""
    return format(x.normalize(), "f")


def _to_step(x: Decimal, step: Decimal, rounding: str) -> Decimal:
    units = (x / step).to_integral_value(rounding=rounding)
    exponent = step.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N', 'F': a NaN or infinite step
        raise TypeError(f"step {step} is not a finite number")
    return (units * step).quantize(step) if exponent < 0 else units * step


@dataclass(frozen=True, slots=True)
class Market:
    """Trading rules of one symbol.

    `amount_step` is the base-currency lot step, `price_tick` the quote-currency price step,
    `min_cost` the minimum notional (amount * price) in quote currency. Fees are fractions
    (0.001 = 0.1 %).
    """

    symbol: str
    base: str
    quote: str
    amount_step: Decimal
    price_tick: Decimal
    min_amount: Decimal | None
    max_amount: Decimal | None
    min_cost: Decimal | None
    maker_fee: Decimal
    taker_fee: Decimal

    def round_amount(self, amount: Decimal) -> Decimal:
        """Truncate toward zero to a multiple of `amount_step` (what venues and ccxt do)."""
        return _to_step(amount, self.amount_step, ROUND_DOWN)

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        """Round to a multiple of `price_tick`.

        Without `side`: to the nearest tick, half up (ccxt `price_to_precision`). With a side,
        conservatively: a buy rounds down and a sell rounds up, so the limit never gets worse
        for the trader than requested.
        """
        if side is Side.BUY:
            rounding = ROUND_FLOOR
        elif side is Side.SELL:
            rounding = ROUND_CEILING
        else:
            rounding = ROUND_HALF_UP
        return _to_step(price, self.price_tick, rounding)

    def check(self, amount: Decimal, price: Decimal | None) -> str | None:
        """Why the venue would refuse this (already rounded) order, or None if it passes.

        `price` is the limit price, or a reference price (best bid/ask) for a market order,
        used for the minimum-notional check; None skips that check.
        """
        sym = self.symbol
        if self.min_amount is not None and amount < self.min_amount:
            return (
                f"amount {format_decimal(amount)} below minimum "
                f"{format_decimal(self.min_amount)} for {sym}"
            )
        if amount <= 0:
            return f"amount {format_decimal(amount)} is not positive for {sym}"
        if self.max_amount is not None and amount > self.max_amount:
            return (
                f"amount {format_decimal(amount)} above maximum "
                f"{format_decimal(self.max_amount)} for {sym}"
            )
        if price is not None:
            if price <= 0:
                return f"price {format_decimal(price)} is not positive for {sym}"
            cost = amount * price
            if self.min_cost is not None and cost < self.min_cost:
                return (
                    f"notional {format_decimal(cost)} below minimum "
                    f"{format_decimal(self.min_cost)} for {sym}"
                )
        return None


@dataclass(frozen=True, slots=True)
class Ticker:
    """Best bid/ask and last trade price; a field is None when the venue does not report it.

    `timestamp` is the venue's time, or the receive time when the venue omits it.
    """

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    timestamp: datetime

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def price(self) -> Decimal | None:
        """Best single reference price: last trade, else mid, else whichever side exists."""
        if self.last is not None:
            return self.last
        return self.mid if self.mid is not None else (self.bid or self.ask)


Level = tuple[Decimal, Decimal]
"""One order-book level: (price in quote, amount in base)."""


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids sorted best (highest) first, asks best (lowest) first."""

    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    timestamp: datetime

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset: `used` is reserved by open orders, `total = free + used`."""

    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the caller asks for; the adapter rounds amount/price and checks limits before sending.

    `price` is required for LIMIT and STOP_LIMIT and ignored for MARKET. `trigger_price` (quote)
    is required for STOP_LIMIT and ignored otherwise; it is rounded to the nearest tick like
    `price`, and the minimum notional is checked at the limit `price`.
    """

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the venue knows it. `amount`/`filled` in base, `average`/`price` in quote,
    `fee` is the accumulated fee in quote currency.

    A stop order (`type.is_stop`) carries its `trigger_price`; while it waits for the trigger
    its status is OPEN and `triggered` is False (`waiting_for_trigger`). Once the trigger has
    fired it works as a limit order: `triggered` is True and it fills, or is canceled, like
    one. `triggered` is always False for other order types.
    """

    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None
    status: OrderStatus
    filled: Decimal
    average: Decimal | None
    fee: Decimal
    created_at: datetime
    updated_at: datetime
    trigger_price: Decimal | None = None
    triggered: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def is_open(self) -> bool:
        return self.status is OrderStatus.OPEN

    @property
    def waiting_for_trigger(self) -> bool:
        """An open stop whose trigger has not fired yet (nothing can have filled)."""
        return self.is_open and self.type.is_stop and not self.triggered


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. `amount` in base, `price` in quote, `fee` in `fee_asset`."""

    trade_id: str
    client_order_id: str | None
    exchange_order_id: str | None
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    timestamp: datetime
    is_maker: bool

    @property
    def cost(self) -> Decimal:
        """Quote value of the fill, fee excluded."""
        return self.amount * self.price


@dataclass(frozen=True, slots=True)
class MalformedRow:
    """One row of a venue's list reply that could not be read and was left out of the result.

    `kind` is what the row should have been ("trade", "order"); `raw_id` is the venue's id of
    the row (None when it has none), `order_id` the venue's order id a trade row names;
    `reason` says what was wrong with it. Ids only: never the raw row.
    """

    kind: str
    symbol: str
    raw_id: str | None
    order_id: str | None
    reason: str


Row = TypeVar("Row")


class VenueRows(list[Row]):
    """The rows of a list reply that could be read, in order, and those left out (`skipped`).

    One unreadable row must not hide the others (a refused trade reply would stop every fill
    sync and with it the risk rules), nor be guessed at: it is skipped and reported here. It is
    a plain list for callers that want only the rows; whoever acts on the account must report
    `skipped`, since a position rebuilt from fills is short of a skipped fill.
    """

    __slots__ = ("skipped",)

    def __init__(self, rows: Iterable[Row] = (), skipped: Iterable[MalformedRow] = ()) -> None:
        super().__init__(rows)
        self.skipped: tuple[MalformedRow, ...] = tuple(skipped)


@runtime_checkable
class ExchangeAdapter(Protocol):
    """One venue. All methods are async; errors are `exchanges.errors` classes only.

    `name` identifies the venue and mode, e.g. "paper:binance", "ccxt:binance:testnet".
    """

    name: str

    async def load_markets(self, reload: bool = False) -> dict[str, Market]: ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook: ...

    async def fetch_balances(self) -> dict[str, Balance]: ...

    async def create_order(self, req: OrderRequest) -> Order:
        """Round amount (truncate) and price (nearest tick), check limits, then place.

        Raises OrderRejected (with symbol, value and limit in the reason), InsufficientFunds,
        DuplicateClientOrderId; OrderOutcomeUnknown if the request may have reached the venue.
        """
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order; OrderNotFound if the venue does not know it."""
        ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with this client id, or None if the venue has never seen it."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> VenueRows[Order]:
        """Open orders; rows that cannot be read are in `skipped`, not raised."""
        ...

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> VenueRows[Fill]:
        """Own fills for `symbol`, oldest first, at or after `since` when given. Trade rows that
        cannot be read (no amount, no timestamp, ...) are in `skipped`, not raised."""
        ...

    async def close(self) -> None: ...


__all__ = [
    "Balance",
    "ExchangeAdapter",
    "Fill",
    "Level",
    "MalformedRow",
    "Market",
    "Order",
    "OrderBook",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Side",
    "Ticker",
    "VenueRows",
    "format_decimal",
]
