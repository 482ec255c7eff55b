"""What the fault campaign found, pinned one reply at a time against the ccxt adapter.

Each test provokes one venue misbehaviour over loopback HTTP (the fault emulator strips fields
from a processed reply, or throttles) and states what a safe adapter does. The xfail ones are
open bugs (see the reason); `strict=True` turns them red the day they are fixed, so the mark
is removed then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.errors import ExchangeError, RateLimited
from tests.chaos.fault_emulator import FaultyEmulatorServer, start_faulty_emulator
from tests.contract.ccxt_factory import build_adapter
from tests.emulator.client import EmulatorHandle

BTC = "BTC/USDT"
ORDER = "/api/v3/order"


@pytest.fixture
def venue() -> Iterator[tuple[FaultyEmulatorServer, EmulatorHandle]]:
    server, handle = start_faulty_emulator()
    handle.set_balances(USDT="10000", BTC="0", ETH="0", SOL="0")
    handle.set_market(BTC, "50000", "50001", qty="5")
    try:
        yield server, handle
    finally:
        server.stop()


def run(handle: EmulatorHandle, scenario: Callable[[CcxtExchange], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        adapter = build_adapter(handle)
        try:
            await adapter.load_markets()
            return await scenario(adapter)
        finally:
            await adapter.close()

    return asyncio.run(main())


async def _bought(adapter: CcxtExchange, cid: str = "qtbot-chaos-buy-1") -> None:
    order = await adapter.create_order(
        OrderRequest(cid, BTC, Side.BUY, OrderType.MARKET, Decimal("0.01"))
    )
    assert order.status is OrderStatus.CLOSED


def test_trade_reply_without_quantity_is_not_read_as_a_zero_fill(venue: Any) -> None:
    server, handle = venue

    async def scenario(adapter: CcxtExchange) -> list[Decimal]:
        await _bought(adapter)
        server.drop_fields("GET", "/api/v3/myTrades", ("qty",), times=1)
        try:
            fills = await adapter.fetch_my_trades(BTC)
        except ExchangeError:
            return []  # refusing the reply is safe: the next sync reads it whole
        return [f.amount for f in fills]

    amounts = run(handle, scenario)
    assert all(amount > 0 for amount in amounts), amounts


def test_account_reply_without_amounts_is_not_read_as_an_empty_account(venue: Any) -> None:
    server, handle = venue

    async def scenario(adapter: CcxtExchange) -> Decimal | None:
        server.drop_fields("GET", "/api/v3/account", ("free", "locked"), times=1)
        try:
            balances = await adapter.fetch_balances()
        except ExchangeError:
            return None
        return balances["USDT"].total if "USDT" in balances else Decimal(0)

    usdt = run(handle, scenario)
    assert usdt is None or usdt == Decimal(10000)


def test_order_reply_without_status_is_not_read_as_open(venue: Any) -> None:
    server, handle = venue

    async def scenario(adapter: CcxtExchange) -> OrderStatus | None:
        await _bought(adapter)
        server.drop_fields("GET", ORDER, ("status", "executedQty"), times=1)
        try:
            order = await adapter.fetch_order(BTC, "qtbot-chaos-buy-1")
        except ExchangeError:
            return None
        return None if order is None else order.status

    status = run(handle, scenario)
    assert status in (None, OrderStatus.CLOSED)


def test_a_long_retry_after_holds_every_request_until_it_expires(venue: Any) -> None:
    server, handle = venue

    async def scenario(adapter: CcxtExchange) -> int:
        handle.add_fault("status", times=None, status=418, retry_after="30")
        before = len(server.entries())
        for _ in range(3):
            with pytest.raises(RateLimited):
                await adapter.fetch_balances()
        return len(server.entries()) - before

    assert run(handle, scenario) == 1


def test_a_short_retry_after_is_waited_out_before_the_retry(venue: Any) -> None:
    server, handle = venue

    async def scenario(adapter: CcxtExchange) -> list[float]:
        handle.add_fault("status", times=2, status=429, retry_after="0.3")
        await adapter.fetch_balances()
        return [e["wall"] for e in server.entries() if e["path"] == "/api/v3/account"]

    walls = run(handle, scenario)
    assert len(walls) == 3
    assert walls[1] - walls[0] >= 0.3 and walls[2] - walls[1] >= 0.3
