"""Pure decisions of the paper engine: how a new order executes and reserves funds, and which
resting orders the current market fills (rules M1-M3, L1-L3, F2 in `exchanges.paper.engine`; S1
and S3 in `exchanges.paper.stops`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exchanges.base import Level, Market, OrderRequest, Side, format_decimal
from exchanges.errors import StopWouldTrigger
from exchanges.paper.accounting import ZERO, new_order, reserve, settle
from exchanges.paper.ledger import AssetBalance, LedgerChange, PaperOrder
from exchanges.paper.matching import (
    Execution,
    available_through,
    consume,
    ticker_price,
    walk_book,
)
from exchanges.stops import stop_reached


@dataclass(frozen=True, slots=True)
class Liquidity:
    """What the market offers now: book levels (empty when depth is unknown) and best prices."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    bid: Decimal | None
    ask: Decimal | None

    def levels(self, side: Side) -> tuple[Level, ...]:
        """The side an order of `side` trades against."""
        return self.asks if side is Side.BUY else self.bids

    def best(self, side: Side) -> Decimal | None:
        return self.ask if side is Side.BUY else self.bid

    def after(self, side: Side, limit: Decimal, amount: Decimal) -> Liquidity:
        """The liquidity left once an order of `side` took `amount` at prices reaching `limit`
        (rule S3: what triggered stops took is gone for the resting orders)."""
        if side is Side.BUY:
            asks = tuple(consume(self.asks, side, limit, amount))
            return Liquidity(self.bids, asks, self.bid, asks[0][0] if asks else self.ask)
        bids = tuple(consume(self.bids, side, limit, amount))
        return Liquidity(bids, self.asks, bids[0][0] if bids else self.bid, self.ask)


def trade_ids(first_seq: int, count: int) -> list[str]:
    return [f"paper-t{first_seq + i}" for i in range(count)]


def accept_order(
    req: OrderRequest,
    market: Market,
    amount: Decimal,
    price: Decimal | None,
    liquidity: Liquidity,
    balances: Mapping[str, AssetBalance],
    *,
    seq: int,
    first_trade_seq: int,
    slippage: Decimal,
    now: datetime,
    trigger_price: Decimal | None = None,
) -> LedgerChange:
    """Accept a checked order: reserve funds (F2), execute what the market allows now (M1-M3
    for `price=None`, L1 for a limit, nothing for a stop: S1) and return the resulting change.

    Raises InsufficientFunds when the reservation does not fit the free balance, and
    StopWouldTrigger for a stop the market has already reached.
    """
    side = req.side
    if trigger_price is not None and stop_reached(
        side, trigger_price, liquidity.bid, liquidity.ask
    ):
        best = liquidity.bid if side is Side.SELL else liquidity.ask
        raise StopWouldTrigger(
            f"stop {side.value} {market.symbol} at {format_decimal(trigger_price)} would trigger "
            f"immediately: best {'bid' if side is Side.SELL else 'ask'} "
            f"{format_decimal(best or ZERO)}",
            client_order_id=req.client_order_id,
        )
    if price is None:
        executions = _market_executions(side, amount, liquidity, market, slippage)
        reserve_fee = ZERO
        if side is Side.BUY:
            notional = sum((e.amount * e.price for e in executions), ZERO)
            needed, asset = notional * (1 + market.taker_fee), market.quote
        else:
            needed, asset = amount, market.base
    else:
        executions = (
            []
            if trigger_price is not None
            else limit_executions(side, amount, price, liquidity, market, slippage)
        )
        if side is Side.BUY:
            reserve_fee = max(market.maker_fee, market.taker_fee)
            needed, asset = amount * price * (1 + reserve_fee), market.quote
        else:
            reserve_fee, needed, asset = ZERO, amount, market.base
    working = dict(balances)
    working.update(
        reserve(
            working,
            asset,
            needed,
            lambda: _describe(side, amount, market.symbol, price),
            req.client_order_id,
        )
    )
    paper = new_order(
        req,
        amount,
        price,
        exchange_order_id=f"paper-{seq}",
        seq=seq,
        reserve_asset=asset,
        reserved=needed,
        reserve_fee=reserve_fee,
        now=now,
        trigger_price=trigger_price,
    )
    ids = trade_ids(first_trade_seq, len(executions))
    return settle(paper, executions, working, market, now, ids)


def _describe(side: Side, amount: Decimal, symbol: str, price: Decimal | None) -> str:
    """The order as a refusal names it: "buy 0.5 BTC/USDT at 30000" or "... at market"."""
    at = "market" if price is None else format_decimal(price)
    return f"{side.value} {format_decimal(amount)} {symbol} at {at}"


def resting_executions(
    by_priority: Sequence[PaperOrder], liquidity: Liquidity
) -> list[tuple[PaperOrder, Execution]]:
    """Rules L2/L3: which resting orders fill now, for how much, at their limit as maker.

    `by_priority` must be in price-time priority; each fill consumes the book volume it used.
    """
    books = {Side.BUY: list(liquidity.asks), Side.SELL: list(liquidity.bids)}
    result: list[tuple[PaperOrder, Execution]] = []
    for paper in by_priority:
        order = paper.order
        if order.price is None or order.waiting_for_trigger:
            continue
        levels = books[order.side]
        if liquidity.levels(order.side):
            take = min(order.remaining, available_through(levels, order.side, order.price))
            books[order.side] = consume(levels, order.side, order.price, take)
        else:
            best = liquidity.best(order.side)
            touched = best is not None and (
                best <= order.price if order.side is Side.BUY else best >= order.price
            )
            take = order.remaining if touched else ZERO
        if take > 0:
            result.append((paper, Execution(price=order.price, amount=take, is_maker=True)))
    return result


def _market_executions(
    side: Side, amount: Decimal, liquidity: Liquidity, market: Market, slippage: Decimal
) -> list[Execution]:
    levels = liquidity.levels(side)
    if levels:
        return walk_book(levels, side, amount, limit=None)
    best = liquidity.best(side)
    if best is None:
        return []
    price = ticker_price(side, best, best, slippage, market.price_tick)
    return [Execution(price=price, amount=amount, is_maker=False)]


def limit_executions(
    side: Side,
    amount: Decimal,
    limit: Decimal,
    liquidity: Liquidity,
    market: Market,
    slippage: Decimal,
) -> list[Execution]:
    levels = liquidity.levels(side)
    if levels:
        return walk_book(levels, side, amount, limit=limit)
    best = liquidity.best(side)
    if best is None or (best > limit if side is Side.BUY else best < limit):
        return []
    price = ticker_price(side, best, best, slippage, market.price_tick)
    price = min(price, limit) if side is Side.BUY else max(price, limit)
    return [Execution(price=price, amount=amount, is_maker=False)]
