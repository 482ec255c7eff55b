"""Protective stops resting on the venue: capabilities, the replace contract, shared helpers.

A protective stop is an `OrderRequest` of type `OrderType.STOP_LIMIT` with a `trigger_price`
and a limit `price`. It is placed with `create_order`, found with `fetch_order` by client id in
every state (waiting for the trigger: OPEN and `triggered=False`; triggered and working or
filled; canceled), canceled with `cancel_order`, and its fills appear in `fetch_my_trades` with
the stop's client order id. A sell stop triggers when the market trades at or below the trigger
(paper engine and test emulator: best bid <= trigger; real venues: their last trade price, see
`VenueCapabilities.trigger_reference`). A stop the market has already reached is refused with
`StopWouldTrigger`.

`StopOrderAdapter.replace_stop(symbol, old_client_order_id, new_request, *, position_amount)`
moves a resting stop (new trigger, limit and/or size) with two guarantees:

1. never two live stops that could both fill for more than the position: two stops are live at
   once only with `PLACE_THEN_CANCEL`, which is used only when `position_amount` is given and
   ``old.remaining + new.amount <= position_amount``;
2. the position is without a stop for at most one round trip (`CANCEL_THEN_PLACE`); with
   `AMEND` and `CANCEL_REPLACE` only inside the venue.

Precise steps:

- The old stop is fetched first. Unknown or not open: `OrderNotFound`; triggered or partly
  filled: `StopTriggered` (it is executing; nothing is sent).
- `new_request` must be a STOP_LIMIT on the same symbol and side (`OrderRejected` otherwise); it
  is rounded and checked like `create_order` before the old stop is touched.
- Then, by `capabilities.replace_method` (or the sequential fallback for the size rule above):
  `AMEND` changes the resting stop in place and it keeps `old_client_order_id`
  (`new_request.client_order_id` is unused); `CANCEL_REPLACE` sends one request in which the
  venue cancels the old stop and places the new one; `CANCEL_THEN_PLACE` cancels, then places,
  with the new amount reduced by anything the old stop filled in between (if what is left is
  below the venue minimum nothing is placed and `StopReplaceFailed(protected=False)` is raised).
- The result is a `StopReplacement`: the stop now resting (`order`), the old stop's last state
  (`previous`), the method used and the measured unprotected window.
- A failure part-way raises `StopReplaceFailed` whose `protected` says whether a stop is
  resting (True: the old one, unchanged; False: none; None: unknown, look both ids up).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

import structlog

from exchanges.base import (
    ExchangeAdapter,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    format_decimal,
)
from exchanges.errors import (
    ExchangeError,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    StopReplaceFailed,
    StopTriggered,
)

log = structlog.get_logger(__name__)


class ReplaceMethod(StrEnum):
    """How a venue moves a resting stop."""

    AMEND = "amend"  # modified in place, keeps its client id (bybit, okx)
    CANCEL_REPLACE = "cancel_replace"  # one request: cancel then place (binance cancelReplace)
    CANCEL_THEN_PLACE = "cancel_then_place"  # two requests: unprotected for ~one round trip
    PLACE_THEN_CANCEL = "place_then_cancel"  # two requests: both live for ~one round trip


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What an adapter can do with stops. `stop_orders=False`: no stop orders at all (the daemon
    keeps its own stop and warns at startup); the other fields are then meaningless.

    `stop_reserves_base`: a resting sell stop locks its base amount as a limit sell does (so
    other sells of that base need it canceled or shrunk first); False means the venue takes the
    base only at trigger time and the stop fails then if it is no longer free.
    `trigger_reference` names the price the venue compares with the trigger.
    """

    stop_orders: bool
    stop_order_type: OrderType | None = None
    replace_method: ReplaceMethod | None = None
    stop_reserves_base: bool = False
    trigger_reference: str = ""
    note: str = ""

    @property
    def amend_stop(self) -> bool:
        """The venue modifies a resting stop in place (the client id does not change)."""
        return self.replace_method is ReplaceMethod.AMEND


NO_STOP_ORDERS = VenueCapabilities(
    stop_orders=False, note="no stop orders through this adapter: the daemon keeps its own stop"
)


@dataclass(frozen=True, slots=True)
class StopReplacement:
    """Outcome of `replace_stop`. `order` is the stop resting now (client id: the new request's,
    or the old one after an AMEND); `previous` is the old stop's last known state (CANCELED, or
    as it was before an amend). `unprotected_for` is the measured time with no stop resting
    (CANCEL_THEN_PLACE), None when no window exists outside the venue."""

    order: Order
    previous: Order
    method: ReplaceMethod
    unprotected_for: timedelta | None = None


@runtime_checkable
class StopOrderAdapter(ExchangeAdapter, Protocol):
    """An adapter that can rest protective stops on the venue (see the module docstring)."""

    @property
    def capabilities(self) -> VenueCapabilities: ...

    async def replace_stop(
        self,
        symbol: str,
        old_client_order_id: str,
        new_request: OrderRequest,
        *,
        position_amount: Decimal | None = None,
    ) -> StopReplacement: ...


def capabilities_of(adapter: object) -> VenueCapabilities:
    """The adapter's capabilities; `NO_STOP_ORDERS` for adapters that declare none."""
    caps = getattr(adapter, "capabilities", None)
    return caps if isinstance(caps, VenueCapabilities) else NO_STOP_ORDERS


def stop_reached(side: Side, trigger: Decimal, bid: Decimal | None, ask: Decimal | None) -> bool:
    """Whether the market has reached a stop's trigger: a sell stop's when the best bid is at
    or below it, a buy stop's when the best ask is at or above it. An empty side reaches
    nothing. (Paper rules S1/S2 and the emulator; real venues use their last price.)"""
    if side is Side.SELL:
        return bid is not None and bid <= trigger
    return ask is not None and ask >= trigger


def stop_limit_price(market: Market, side: Side, trigger: Decimal, offset: Decimal) -> Decimal:
    """Limit price of a stop-limit `offset` (a fraction, 0.005 = 0.5 %) beyond its trigger: a
    sell's limit below the trigger, rounded down to the tick; a buy's above, rounded up."""
    if side is Side.SELL:
        return market.round_price(trigger * (1 - offset), Side.BUY)
    return market.round_price(trigger * (1 + offset), Side.SELL)


def protective_stop(
    client_order_id: str,
    market: Market,
    amount: Decimal,
    trigger_price: Decimal,
    limit_offset: Decimal,
) -> OrderRequest:
    """A sell STOP_LIMIT protecting a long position of `amount` base: triggers at
    `trigger_price`, then sells no lower than `limit_offset` (fraction) below it."""
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=market.symbol,
        side=Side.SELL,
        type=OrderType.STOP_LIMIT,
        amount=market.round_amount(amount),
        price=stop_limit_price(market, Side.SELL, trigger_price, limit_offset),
        trigger_price=market.round_price(trigger_price),
    )


def check_stop_request(req: OrderRequest) -> None:
    """A STOP_LIMIT needs both prices; raises OrderRejected saying which is missing."""
    if req.trigger_price is None or req.price is None:
        raise OrderRejected(
            f"stop order {req.client_order_id} on {req.symbol} needs a trigger price "
            "and a limit price",
            client_order_id=req.client_order_id,
        )


def check_replaceable(old: Order | None, symbol: str, old_cid: str, new: OrderRequest) -> Order:
    """Step 1 of `replace_stop`: the old stop must be open and untriggered, the new request a
    stop on the same symbol and side. Returns the old order."""
    if old is None or old.symbol != symbol:
        raise OrderNotFound(f"no stop {old_cid} on {symbol} to replace", client_order_id=old_cid)
    if not old.is_open:
        raise OrderNotFound(
            f"stop {old_cid} on {symbol} is {old.status.value}, not open: nothing to replace",
            client_order_id=old_cid,
        )
    if not old.type.is_stop:
        raise OrderRejected(f"order {old_cid} on {symbol} is not a stop", client_order_id=old_cid)
    if old.triggered or old.filled > 0:
        raise StopTriggered(
            f"stop {old_cid} on {symbol} has triggered (filled {format_decimal(old.filled)}): "
            "left to execute",
            client_order_id=old_cid,
        )
    if not new.type.is_stop or new.symbol != symbol or new.side is not old.side:
        raise OrderRejected(
            f"replacement {new.client_order_id} must be a {old.side.value} stop on {symbol}",
            client_order_id=new.client_order_id,
        )
    check_stop_request(new)
    return old


def overlap_is_safe(old: Order, new_amount: Decimal, position_amount: Decimal | None) -> bool:
    """Both stops may be live at once only if both filling cannot sell more than the position."""
    return position_amount is not None and old.remaining + new_amount <= position_amount


async def replace_in_sequence(
    old: Order,
    new: OrderRequest,
    *,
    place: Callable[[OrderRequest], Awaitable[Order]],
    cancel: Callable[[str], Awaitable[Order]],
    position_amount: Decimal | None,
    clock: Callable[[], datetime],
    min_amount_reason: Callable[[Decimal], str | None],
) -> StopReplacement:
    """Replace with two requests: PLACE_THEN_CANCEL when the overlap is safe, else
    CANCEL_THEN_PLACE. `new` is already rounded and checked; `place` sends it without further
    reads (nothing may lengthen the unprotected window), `cancel(client_order_id)` cancels.
    `min_amount_reason(amount)` says why a reduced amount cannot be placed, or None."""
    old_cid, new_cid, symbol = old.client_order_id, new.client_order_id, old.symbol
    if overlap_is_safe(old, new.amount, position_amount):
        placed = await place(new)
        try:
            canceled = await cancel(old_cid)
        except ExchangeError as exc:
            # Both may be live: the caller must cancel one (the position covers both fills).
            raise StopReplaceFailed(
                f"new stop {new_cid} placed but old {old_cid} not canceled: {exc.reason}",
                protected=True,
                old_client_order_id=old_cid,
                new_client_order_id=new_cid,
            ) from exc
        return StopReplacement(placed, canceled, ReplaceMethod.PLACE_THEN_CANCEL)
    try:
        canceled = await cancel(old_cid)
    except OrderNotFound:
        raise  # gone since the check (filled or canceled): nothing to protect with a new one
    except ExchangeError as exc:
        raise StopReplaceFailed(
            f"cancel of stop {old_cid} failed: {exc.reason}",
            protected=None,
            old_client_order_id=old_cid,
            new_client_order_id=new_cid,
        ) from exc
    gone_at = clock()
    amount = new.amount - canceled.filled
    if canceled.status is not OrderStatus.CANCELED:
        raise StopReplaceFailed(
            f"stop {old_cid} ended {canceled.status.value} while being replaced",
            protected=False,
            old_client_order_id=old_cid,
            new_client_order_id=new_cid,
        )
    reason = min_amount_reason(amount)
    if reason is not None:
        raise StopReplaceFailed(
            f"stop {old_cid} filled {format_decimal(canceled.filled)} before its cancel; "
            f"the rest cannot be protected: {reason}",
            protected=False,
            old_client_order_id=old_cid,
            new_client_order_id=new_cid,
        )
    try:
        placed = await place(replace(new, amount=amount))
    except ExchangeError as exc:
        raise StopReplaceFailed(
            f"stop {old_cid} canceled but {new_cid} not placed: {exc.reason}",
            protected=None if isinstance(exc, OrderOutcomeUnknown) else False,
            old_client_order_id=old_cid,
            new_client_order_id=new_cid,
        ) from exc
    window = clock() - gone_at
    log.info(
        "stop_replaced_unprotected_window",
        old_client_order_id=old_cid,
        client_order_id=new_cid,
        symbol=symbol,
        unprotected_ms=round(window.total_seconds() * 1000, 1),
    )
    return StopReplacement(placed, canceled, ReplaceMethod.CANCEL_THEN_PLACE, window)


__all__ = [
    "NO_STOP_ORDERS",
    "ReplaceMethod",
    "StopOrderAdapter",
    "StopReplacement",
    "VenueCapabilities",
    "capabilities_of",
    "check_replaceable",
    "check_stop_request",
    "overlap_is_safe",
    "protective_stop",
    "replace_in_sequence",
    "stop_limit_price",
    "stop_reached",
]
