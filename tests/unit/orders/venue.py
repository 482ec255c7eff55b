"""A paper venue with a request log and scripted faults, for order-manager tests.

Wraps the real PaperExchange (so fills, balances and precision are real) and injects the
failures a real venue produces, passivbot-style: a fake with a log, not patched imports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from bot.services.clock import SimulatedClock
from exchanges.base import Market, Order, OrderRequest
from exchanges.errors import OrderOutcomeUnknown, OrderRejected, RetryableError
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger

START = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)

BTC_USDT = Market(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    amount_step=Decimal("0.00001"),
    price_tick=Decimal("0.01"),
    min_amount=Decimal("0.00001"),
    max_amount=Decimal("9000"),
    min_cost=Decimal("5"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.001"),
)


@dataclass
class FaultyVenue:
    """The adapter under test sees this; `faults` lists what the next create_order does."""

    inner: PaperExchange
    data: StaticMarketData
    clock: SimulatedClock
    name: str = "faulty-paper"
    faults: list[str] = field(default_factory=list)
    lookup_faults: int = 0
    creates: Counter[str] = field(default_factory=Counter)

    def set_price(self, price: Decimal, depth: Decimal = Decimal("10")) -> None:
        tick = Decimal("0.01")
        self.data.set_order_book(
            scripted_book("BTC/USDT", price, price + tick, depth, 5, self.clock.now())
        )

    async def create_order(self, req: OrderRequest) -> Order:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "refused":  # connection refused: nothing reached the venue
            raise RetryableError("connection refused")
        if fault == "rejected":  # the venue answered no (a filter, the balance)
            raise OrderRejected("Filter failure: NOTIONAL")
        self.creates[req.client_order_id] += 1
        order = await self.inner.create_order(req)
        if fault == "timeout_after_accept":
            raise OrderOutcomeUnknown("read timed out after sending")
        return order

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        if self.lookup_faults:
            self.lookup_faults -= 1
            raise RetryableError("503 maintenance")
        return await self.inner.fetch_order(symbol, client_order_id)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def make_venue(engine: Engine, clock: SimulatedClock | None = None) -> FaultyVenue:
    clock = clock or SimulatedClock(START)
    data = StaticMarketData(markets=[BTC_USDT])
    config = PaperConfig(venue="binance", starting_balances={"USDT": Decimal(10000)})
    venue = FaultyVenue(PaperExchange(data, SqlPaperLedger(engine), clock.now, config), data, clock)
    venue.set_price(Decimal(100))
    return venue


def later(clock: SimulatedClock, minutes: int = 1) -> datetime:
    return clock.advance(timedelta(minutes=minutes))


def db_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'bot.sqlite'}"
