"""Paper engine throughput: market orders matched per second against a 50-level book.

Run from the repo root: `.venv/bin/python benchmarks/bench_paper.py [orders]`.
Prints exactly one stdout line, `paper_engine: <int> orders/s`; the method goes to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from exchanges.base import Market, OrderRequest, OrderType, Side
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.ledger import InMemoryPaperLedger

SYMBOL = "BTC/USDT"
LEVELS = 50
DEPTH = Decimal("0.002")  # base per level: a 0.01 order walks 5 levels
ORDER_AMOUNT = Decimal("0.01")
NOW = datetime(2025, 12, 1, tzinfo=UTC)

MARKET = Market(
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


async def measure(orders: int) -> float:
    data = StaticMarketData([MARKET])
    data.set_order_book(
        scripted_book(SYMBOL, Decimal("29999.99"), Decimal("30000"), DEPTH, LEVELS, NOW)
    )
    config = PaperConfig(starting_balances={"USDT": Decimal(10**9), "BTC": Decimal(10**4)})
    paper = PaperExchange(data, InMemoryPaperLedger(), lambda: NOW, config)
    await paper.load_markets()

    async def place(i: int) -> None:
        side = Side.BUY if i % 2 == 0 else Side.SELL
        await paper.create_order(
            OrderRequest(f"bench-{i}", SYMBOL, side, OrderType.MARKET, ORDER_AMOUNT)
        )

    for i in range(min(500, orders)):  # warm-up, not timed
        await place(-1 - i)
    start = time.perf_counter()
    for i in range(orders):
        await place(i)
    elapsed = time.perf_counter() - start
    return orders / elapsed


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rate = asyncio.run(measure(orders))
    print(
        f"# measured: {orders} market orders of {ORDER_AMOUNT} BTC, alternating buy/sell, each "
        f"walking 5 of {LEVELS} levels ({DEPTH} BTC each), PaperExchange.create_order end to "
        "end (validation, matching, fees, balances) on StaticMarketData + InMemoryPaperLedger, "
        "one event loop, after 500 warm-up orders, wall clock via time.perf_counter",
        file=sys.stderr,
    )
    print(f"paper_engine: {int(rate)} orders/s")


if __name__ == "__main__":
    main()
