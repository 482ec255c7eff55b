"""ccxt adapter per-order overhead: create + fetch-by-client-id round trips over loopback HTTP.

How it measures: the Binance emulator (tests/emulator) runs on a loopback port in a background
thread; a `CcxtExchange("binance", "testnet", rest_url=<emulator>)` with ccxt's client-side rate
limiter off places resting limit orders (alternating buy below / sell above the market, so the
book never moves) and looks each up again with `fetch_order(symbol, client_order_id)`: two
signed HTTP requests per order. After 50 warm-up orders, 5 rounds of N orders are timed with
time.perf_counter; the median round gives ms per order. The same calls made straight on the
underlying ccxt instance are timed the same way, so stderr also shows what the adapter itself
(rounding, limit checks, error translation, Decimal parsing) adds on top of ccxt + HTTP.

Run from the repo root: `.venv/bin/python benchmarks/bench_ccxt.py [orders_per_round]`.
stdout carries exactly one line, `ccxt_adapter_order_overhead: <float> ms/order` (adapter end
to end, create + fetch); details go to stderr as a `# measured: ...` line.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from exchanges.base import OrderRequest, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from tests.emulator import start_emulator

SYMBOL = "BTC/USDT"
AMOUNT = Decimal("0.001")
ROUNDS = 5
WARMUP = 50


async def timed_rounds(place_and_fetch: Callable[[int], Awaitable[None]], n: int) -> float:
    """Median milliseconds per order over ROUNDS rounds of n orders (after a warm-up)."""
    for i in range(WARMUP):
        await place_and_fetch(-1 - i)
    per_order = []
    for r in range(ROUNDS):
        start = time.perf_counter()
        for i in range(n):
            await place_and_fetch(r * n + i)
        per_order.append((time.perf_counter() - start) * 1000 / n)
    return statistics.median(per_order)


async def measure(n: int) -> tuple[float, float]:
    emulator = start_emulator()
    emulator.set_balances(USDT="1000000000", BTC="100000")
    adapter = CcxtExchange(
        "binance",
        "testnet",
        emulator.api_key,
        emulator.api_secret,
        rest_url=emulator.url,
        timeout=5.0,
        enable_rate_limit=False,
    )
    adapter.client.timeout_on_exit = 0
    try:
        await adapter.load_markets()

        async def via_adapter(i: int) -> None:
            side, price = (Side.BUY, "40000") if i % 2 == 0 else (Side.SELL, "60000")
            cid = f"bench-a{i}"
            await adapter.create_order(
                OrderRequest(cid, SYMBOL, side, OrderType.LIMIT, AMOUNT, Decimal(price))
            )
            await adapter.fetch_order(SYMBOL, cid)

        client = adapter.client

        async def via_ccxt(i: int) -> None:
            side, price = ("buy", 40000.0) if i % 2 == 0 else ("sell", 60000.0)
            cid = f"bench-c{i}"
            await client.create_order(SYMBOL, "limit", side, 0.001, price, {"clientOrderId": cid})
            await client.fetch_order(None, SYMBOL, {"clientOrderId": cid})

        adapter_ms = await timed_rounds(via_adapter, n)
        ccxt_ms = await timed_rounds(via_ccxt, n)
    finally:
        await adapter.close()
        emulator.stop()
    return adapter_ms, ccxt_ms


def main() -> None:
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    adapter_ms, ccxt_ms = asyncio.run(measure(n))
    print(
        f"# measured: median of {ROUNDS} rounds x {n} orders after {WARMUP} warm-up; each order "
        f"= CcxtExchange.create_order (resting limit {AMOUNT} BTC) + fetch_order by client id "
        "against the loopback Binance emulator over HTTP (2 signed requests, ccxt rate limiter "
        f"off); adapter {adapter_ms:.3f} ms/order vs raw ccxt {ccxt_ms:.3f} ms/order for the "
        f"same calls: the adapter adds {adapter_ms - ccxt_ms:.3f} ms/order",
        file=sys.stderr,
    )
    print(f"ccxt_adapter_order_overhead: {adapter_ms:.3f} ms/order")


if __name__ == "__main__":
    main()
