"""One unreadable trade row does not stop the risk job (reliability round two, item 3).

A venue that answers a trade list with one row lacking its amount used to make the whole reply
fail, and every risk check with it. Over real HTTP against the loopback emulator, with the ccxt
adapter and the order manager the daemon uses: the bad row is skipped and journaled once as a
warning the notifier sends, the good fill in the same reply is recorded, and the hard stop still
sells the position built from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import Settings
from bot.execution.manager import VENUE_ROW_SKIPPED
from bot.jobs.risk_check import risk_check
from bot.ops.notify.events import Severity
from bot.ops.notify.journal_map import event_from_journal
from bot.orders.intents import IntentStatus, OrderIntent
from bot.runtime.compose import compose
from bot.services.clock import SystemClock
from bot.services.context import JobContext
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory
from exchanges.base import OrderType, Side
from tests.contract.ccxt_factory import build_adapter
from tests.emulator.client import EmulatorHandle
from tests.emulator.server import EmulatorServer

BTC = "BTC/USDT"
LISTS = ("/api/v3/myTrades", "/api/v3/openOrders")


class TradeRowStrippingEmulator(EmulatorServer):
    """The emulator, except that the rows of the orders in `bad_orders` lose `fields` on every
    GET of a trade or open-order list (the other rows of the reply stay whole)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bad_orders: set[int] = set()
        self.fields: tuple[str, ...] = ("qty",)
        self.stripped = 0

    def dispatch(
        self,
        method: str,
        path: str,
        raw_query: str,
        raw_body: str,
        headers: dict[str, str],
        fault: Any = None,
    ) -> tuple[int, Any]:
        status, body = super().dispatch(method, path, raw_query, raw_body, headers, fault)
        if method != "GET" or path not in LISTS or status != 200 or not isinstance(body, list):
            return status, body
        rows = []
        for row in body:
            if row.get("orderId") in self.bad_orders:
                self.stripped += 1
                row = {k: v for k, v in row.items() if k not in self.fields}
            rows.append(row)
        return status, rows


@pytest.fixture
def venue() -> Iterator[tuple[TradeRowStrippingEmulator, EmulatorHandle]]:
    server = TradeRowStrippingEmulator()
    server.start()
    handle = EmulatorHandle(server)
    handle.set_balances(USDT="10000", BTC="0", ETH="0", SOL="0")
    handle.set_market(BTC, "50000", "50001", qty="5")
    try:
        yield server, handle
    finally:
        server.stop()


def _buy(cause: str, price: str | None = None) -> OrderIntent:
    return OrderIntent(
        cause=cause,
        kind="tranche",
        symbol=BTC,
        side=Side.BUY,
        type=OrderType.MARKET if price is None else OrderType.LIMIT,
        amount=Decimal("0.01"),
        price=None if price is None else Decimal(price),
        reason="test tranche",
    )


def _context(tmp_path: Path, handle: EmulatorHandle) -> JobContext:
    settings = Settings(
        risk={
            "stop_loss_pct": 20,
            "trailing_stop_pct": 15,
            "exchange_stop": False,
            "trailing_arm_after_tiers": None,
        },
        exchange={"id": "binance"},
    )
    return compose(
        settings,
        store=Store.open(f"sqlite:///{tmp_path / 'bot.sqlite'}"),
        clock=SystemClock(),
        exchange=build_adapter(handle),
        price_history=MemoryPriceHistory(),
        signals=None,
    )


def test_a_trade_row_without_amount_is_skipped_journaled_once_and_the_stop_still_fires(
    tmp_path: Path, venue: tuple[TradeRowStrippingEmulator, EmulatorHandle]
) -> None:
    server, handle = venue
    ctx = _context(tmp_path, handle)
    orders = ctx.services.orders

    async def scenario() -> tuple[str, str]:
        try:
            good = await orders.submit(_buy("plan-1|tranche-1"), ctx.clock.now())
            bad = await orders.submit(_buy("plan-1|tranche-2"), ctx.clock.now())
            assert good.status is IntentStatus.CLOSED and bad.status is IntentStatus.CLOSED
            assert good.exchange_order_id and bad.exchange_order_id
            server.bad_orders = {int(bad.exchange_order_id)}
            # 20 % under the entry: the hard stop sells what the readable fill bought.
            await asyncio.to_thread(handle.set_market, BTC, "39000", "39001", qty="5")
            for _ in range(3):  # the venue repeats the bad row on every sync
                await risk_check(ctx, ctx.clock.now())
            return good.client_order_id, bad.exchange_order_id
        finally:
            await ctx.services.exchange.close()

    good_cid, bad_order_id = asyncio.run(scenario())
    try:
        assert server.stripped >= 3, "the emulator never served the damaged row"
        skipped = ctx.store.recent_journal(50, kind=VENUE_ROW_SKIPPED)
        assert len(skipped) == 1, [e.message for e in skipped]
        entry = skipped[0]
        assert entry.level == "warning" and entry.symbol == BTC
        assert entry.data["venue_order_id"] == bad_order_id
        assert entry.data["row_kind"] == "trade" and "amount" in entry.data["reason"]
        event = event_from_journal(entry)
        assert event is not None and event.severity is Severity.WARNING

        fills = [e for e in ctx.store.recent_journal(50, kind="fill")]
        buys = [e for e in fills if e.message.startswith("buy")]
        assert [e.data["client_order_id"] for e in buys] == [good_cid]

        stops = [r for r in orders.repo.all(BTC) if r.kind == "stop_loss"]
        assert len(stops) == 1 and stops[0].status is IntentStatus.CLOSED, stops
        assert stops[0].filled > 0
        assert any(e.message.startswith("sell") for e in fills), [e.message for e in fills]
        assert not orders.position(BTC).is_open(Decimal("0.00001"))
    finally:
        ctx.store.close()


def test_an_open_order_row_without_side_is_skipped_and_the_others_are_listed(
    tmp_path: Path, venue: tuple[TradeRowStrippingEmulator, EmulatorHandle]
) -> None:
    server, handle = venue
    ctx = _context(tmp_path, handle)
    orders = ctx.services.orders

    async def scenario() -> tuple[list[str], list[tuple[str, str | None, str]]]:
        try:
            kept = await orders.submit(_buy("plan-1|tranche-1", "40000"), ctx.clock.now())
            bad = await orders.submit(_buy("plan-1|tranche-2", "41000"), ctx.clock.now())
            assert kept.status is IntentStatus.OPEN and bad.status is IntentStatus.OPEN
            assert bad.exchange_order_id
            server.bad_orders = {int(bad.exchange_order_id)}
            server.fields = ("side",)
            listed = await ctx.services.exchange.fetch_open_orders(BTC)
            return (
                [o.client_order_id for o in listed],
                [(r.kind, r.raw_id, r.reason) for r in listed.skipped],
            )
        finally:
            await ctx.services.exchange.close()

    try:
        listed, skipped = asyncio.run(scenario())
        kept_cid = orders.repo.by_cause("plan-1|tranche-1")[0].client_order_id
        bad_id = orders.repo.by_cause("plan-1|tranche-2")[0].exchange_order_id
        assert listed == [kept_cid]
        assert len(skipped) == 1 and skipped[0][:2] == ("order", bad_id)
        assert "side" in skipped[0][2]
    finally:
        ctx.store.close()
