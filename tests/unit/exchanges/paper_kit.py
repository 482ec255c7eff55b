"""Builders shared by the paper-engine unit tests (imported explicitly, not a conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from exchanges.base import Market, OrderRequest, OrderType, Side, Ticker
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.ledger import InMemoryPaperLedger, PaperLedger

T = TypeVar("T")
D = Decimal
SYMBOL = "BTC/USDT"
T0 = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)

BTC_USDT = Market(
    symbol=SYMBOL,
    base="BTC",
    quote="USDT",
    amount_step=D("0.00001"),
    price_tick=D("0.01"),
    min_amount=D("0.00001"),
    max_amount=D("9000"),
    min_cost=D("5"),
    maker_fee=D("0.001"),
    taker_fee=D("0.002"),
)


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_paper(
    *,
    ledger: PaperLedger | None = None,
    data: StaticMarketData | None = None,
    clock: StepClock | None = None,
    usdt: str = "10000",
    btc: str = "1",
    **config: Any,
) -> tuple[PaperExchange, StaticMarketData, StepClock]:
    data = data or StaticMarketData([BTC_USDT])
    clock = clock or StepClock()
    cfg = PaperConfig(starting_balances={"USDT": D(usdt), "BTC": D(btc)}, **config)
    paper = PaperExchange(data, ledger or InMemoryPaperLedger(), clock, cfg)
    run(paper.load_markets())
    return paper, data, clock


def set_book(data: StaticMarketData, bid: str, ask: str, depth: str = "1", levels: int = 5) -> None:
    data.set_order_book(scripted_book(SYMBOL, D(bid), D(ask), D(depth), levels, T0))


def set_ticker(data: StaticMarketData, bid: str, ask: str) -> None:
    data.set_ticker(Ticker(SYMBOL, bid=D(bid), ask=D(ask), last=D(bid), timestamp=T0))


def market(cid: str, side: Side, amount: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.MARKET, D(amount))


def limit(cid: str, side: Side, amount: str, price: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.LIMIT, D(amount), D(price))
