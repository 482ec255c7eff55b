"""One contract suite, every adapter: the `adapter_factory` fixture is parametrised per venue.

Factory protocol (see `tests/contract/harness.py` for the full text and the venue set-up every
factory must build):

    factory() -> async context manager yielding a VenueHarness with
        .adapter                                   an ExchangeAdapter
        async set_market(symbol, bid, ask, depth=Decimal("1"), levels=5)
                                                   script the book and ticker
        async advance()                            let resting orders match

Params:

- ``paper``: `PaperExchange` over `StaticMarketData` with a scripted book, persisting to a
  SQLite file in the test's tmp dir.
- ``ccxt_emulator``: the ccxt adapter over real HTTP against the loopback exchange emulator,
  from `tests/contract/ccxt_factory.py` (``open_harness``). Imported like any module: if it
  cannot be, the whole contract suite fails to collect, loudly, rather than half of it being
  skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from exchanges.base import Market
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger, create_paper_tables
from tests.contract.ccxt_factory import open_harness as open_ccxt_harness
from tests.contract.harness import (
    START_BTC,
    START_USDT,
    SYMBOL,
    HarnessFactory,
    VenueHarness,
)

BTC_USDT = Market(
    symbol=SYMBOL,
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
class PaperHarness:
    adapter: PaperExchange
    data: StaticMarketData

    async def set_market(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        depth: Decimal = Decimal("1"),
        levels: int = 5,
    ) -> None:
        self.data.set_order_book(scripted_book(symbol, bid, ask, depth, levels, _now()))

    async def advance(self) -> None:
        await self.adapter.match_resting()


def _now() -> datetime:
    return datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _paper_factory(db_path: Path) -> HarnessFactory:
    @asynccontextmanager
    async def open_harness() -> AsyncIterator[VenueHarness]:
        engine = create_engine(f"sqlite:///{db_path}")
        create_paper_tables(engine)
        data = StaticMarketData(markets=[BTC_USDT])
        config = PaperConfig(
            venue="binance", starting_balances={"USDT": START_USDT, "BTC": START_BTC}
        )
        adapter = PaperExchange(data, SqlPaperLedger(engine), _now, config)
        try:
            yield PaperHarness(adapter=adapter, data=data)
        finally:
            await adapter.close()
            engine.dispose()

    return open_harness


@pytest.fixture(params=["paper", "ccxt_emulator"])
def adapter_factory(request: pytest.FixtureRequest, tmp_path: Path) -> HarnessFactory:
    if request.param == "paper":
        return _paper_factory(tmp_path / "paper.sqlite")
    return open_ccxt_harness
