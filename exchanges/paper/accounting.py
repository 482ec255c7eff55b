"""Pure bookkeeping of the paper account: reserve funds, settle executions, release, cancel.

Every function takes the current state and returns the next one (a `LedgerChange`); nothing here
reads a clock or touches storage. Fees are charged in the quote currency: a buy pays
cost + fee, a sell receives cost - fee (rule F1 in `exchanges.paper.engine`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from exchanges.base import (
    Fill,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    format_decimal,
)
from exchanges.errors import InsufficientFunds
from exchanges.paper.ledger import AssetBalance, LedgerChange, PaperOrder
from exchanges.paper.matching import Execution

ZERO = Decimal(0)
_EMPTY = AssetBalance(free=ZERO, used=ZERO)


def reserve(
    balances: Mapping[str, AssetBalance],
    asset: str,
    amount: Decimal,
    what: Callable[[], str],
    client_order_id: str,
) -> dict[str, AssetBalance]:
    """Move `amount` of `asset` from free to used, or raise InsufficientFunds saying why.

    `what` describes the order; it is only called to word a refusal (most orders fit)."""
    current = balances.get(asset, _EMPTY)
    if current.free < amount:
        raise InsufficientFunds(
            f"insufficient {asset} for {what()}: need {format_decimal(amount)}, "
            f"free {format_decimal(current.free)}",
            client_order_id=client_order_id,
        )
    return {asset: AssetBalance(free=current.free - amount, used=current.used + amount)}


def new_order(
    req: OrderRequest,
    amount: Decimal,
    price: Decimal | None,
    *,
    exchange_order_id: str,
    seq: int,
    reserve_asset: str,
    reserved: Decimal,
    reserve_fee: Decimal,
    now: datetime,
    trigger_price: Decimal | None = None,
) -> PaperOrder:
    order = Order(
        client_order_id=req.client_order_id,
        exchange_order_id=exchange_order_id,
        symbol=req.symbol,
        side=req.side,
        type=req.type,
        amount=amount,
        price=price,
        status=OrderStatus.OPEN,
        filled=ZERO,
        average=None,
        fee=ZERO,
        created_at=now,
        updated_at=now,
        trigger_price=trigger_price,
    )
    return PaperOrder(
        order=order,
        seq=seq,
        reserve_asset=reserve_asset,
        reserved=reserved,
        reserve_fee=reserve_fee,
        filled_cost=ZERO,
    )


def settle(
    paper: PaperOrder,
    executions: Sequence[Execution],
    balances: Mapping[str, AssetBalance],
    market: Market,
    now: datetime,
    trade_ids: Sequence[str],
) -> LedgerChange:
    """Apply executions to an order and the balances; close or expire it when done.

    A buy releases ``price * (1 + reserve_fee)`` of its reservation per unit filled (limit) or
    exactly cost + fee (market) and pays cost + fee; a sell releases the base it sold and
    receives cost - fee. A filled limit order, or any market order, then releases what is
    left of its reservation: a market order the book could not fill completely expires.
    """
    order = paper.order
    base = dict(balances)
    reserved, filled, filled_cost, fee_total = (
        paper.reserved,
        order.filled,
        paper.filled_cost,
        order.fee,
    )
    fills: list[Fill] = []
    for execution, trade_id in zip(executions, trade_ids, strict=False):
        fee_rate = market.maker_fee if execution.is_maker else market.taker_fee
        cost = execution.amount * execution.price
        fee = cost * fee_rate
        quote = base.get(market.quote, _EMPTY)
        if order.side is Side.BUY:
            if order.price is not None:
                release = execution.amount * order.price * (1 + paper.reserve_fee)
            else:
                release = cost + fee
            base[market.quote] = AssetBalance(
                free=quote.free + release - cost - fee, used=quote.used - release
            )
            held = base.get(market.base, _EMPTY)
            base[market.base] = AssetBalance(free=held.free + execution.amount, used=held.used)
        else:
            release = execution.amount
            held = base.get(market.base, _EMPTY)
            base[market.base] = AssetBalance(free=held.free, used=held.used - release)
            quote = base.get(market.quote, _EMPTY)
            base[market.quote] = AssetBalance(free=quote.free + cost - fee, used=quote.used)
        reserved -= release
        filled += execution.amount
        filled_cost += cost
        fee_total += fee
        fills.append(
            Fill(
                trade_id=trade_id,
                client_order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id,
                symbol=order.symbol,
                side=order.side,
                amount=execution.amount,
                price=execution.price,
                fee=fee,
                fee_asset=market.quote,
                timestamp=now,
                is_maker=execution.is_maker,
            )
        )
    status = order.status
    if filled >= order.amount:
        status = OrderStatus.CLOSED
    elif order.type is OrderType.MARKET:
        status = OrderStatus.EXPIRED
    if status is not OrderStatus.OPEN and reserved != 0:
        held = base.get(paper.reserve_asset, _EMPTY)
        base[paper.reserve_asset] = AssetBalance(
            free=held.free + reserved, used=held.used - reserved
        )
        reserved = ZERO
    # `base` holds exactly the given assets plus those touched above.
    if not fills and status is order.status and filled == 0 and order.average is None:
        # Nothing executed and the status stands (a limit order resting on arrival): every
        # field would be rebuilt with the value it holds.
        return LedgerChange(order=paper, balances=base)
    # Built field by field, not with dataclasses.replace: this runs for every order and fill,
    # and replace() costs twice as much. tests/unit/exchanges/test_paper_accounting.py checks
    # that every field of Order and PaperOrder is carried over.
    new_order_state = Order(
        client_order_id=order.client_order_id,
        exchange_order_id=order.exchange_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        amount=order.amount,
        price=order.price,
        status=status,
        filled=filled,
        average=filled_cost / filled if filled > 0 else None,
        fee=fee_total,
        created_at=order.created_at,
        updated_at=now if fills or status is not order.status else order.updated_at,
        trigger_price=order.trigger_price,
        triggered=order.triggered,
    )
    return LedgerChange(
        order=PaperOrder(
            order=new_order_state,
            seq=paper.seq,
            reserve_asset=paper.reserve_asset,
            reserved=reserved,
            reserve_fee=paper.reserve_fee,
            filled_cost=filled_cost,
        ),
        fills=tuple(fills),
        balances=base,
    )


def cancel(paper: PaperOrder, balances: Mapping[str, AssetBalance], now: datetime) -> LedgerChange:
    """Cancel an open order and give its remaining reservation back."""
    held = balances.get(paper.reserve_asset, _EMPTY)
    released = AssetBalance(free=held.free + paper.reserved, used=held.used - paper.reserved)
    order = replace(paper.order, status=OrderStatus.CANCELED, updated_at=now)
    return LedgerChange(
        order=replace(paper, order=order, reserved=ZERO),
        balances={paper.reserve_asset: released},
    )
