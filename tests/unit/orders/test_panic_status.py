"""`qtbot status` content and `qtbot panic` on the paper engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.jobs.panic import panic
from bot.jobs.risk_check import risk_check
from bot.ops.status import status_view
from bot.orders.intents import IntentStatus
from exchanges.base import OrderType
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.test_risk_job import _context
from tests.unit.orders.venue import later


def test_status_shows_position_next_tier_stops_and_open_orders(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await orders.submit(
            buy("plan-1|tranche-2", amount="0.5", type=OrderType.LIMIT, price=Decimal(90)),
            later(venue.clock),
        )
        venue.set_price(Decimal(110))
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    view = status_view(ctx.settings, ctx.store, datetime.now(UTC))
    (position,) = view["positions"]
    assert position["symbol"] == "BTC/USDT" and position["size"] == "1"
    assert position["avg_entry"] == "100.01"  # bought at the ask
    assert position["last_price"] == "110"
    assert position["next_tier"]["tier"] == 1 and position["next_tier"]["price"] == "120.012"
    assert position["hard_stop"] == "80.008" and position["trailing_stop"] is None
    (order,) = view["open_orders"]
    assert order["price"] == "90" and order["status"] == "open"
    ctx.store.close()


def test_panic_cancels_orders_sells_everything_and_pauses_entries(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> list[str]:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await orders.submit(
            buy("plan-1|tranche-2", amount="0.5", type=OrderType.LIMIT, price=Decimal(90)),
            later(venue.clock),
        )
        await orders.sync_fills("BTC/USDT", later(venue.clock))
        return await panic(ctx, later(venue.clock))

    done = asyncio.run(scenario())
    assert len(done) == 2 and done[0].startswith("canceled") and "sell 1" in done[1]
    assert not orders.position("BTC/USDT").is_open()
    assert ctx.store.risk_off()
    assert not orders.repo.active()
    statuses = sorted(r.status for r in orders.repo.all())
    assert statuses == [IntentStatus.CANCELED, IntentStatus.CLOSED, IntentStatus.CLOSED]
    assert ctx.store.recent_journal(1)[0].kind == "panic"
    # A second panic finds nothing to do and sends nothing.
    assert asyncio.run(panic(ctx, later(venue.clock))) == []
    ctx.store.close()
