"""Protective stops resting on the (paper) exchange, driven by the risk job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.jobs.protective_stops import resting_stop
from bot.jobs.risk_check import risk_check
from bot.ops.status import status_view
from bot.orders.intents import IntentStatus
from bot.orders.protective_stop import KIND
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.test_risk_job import _context
from tests.unit.orders.venue import later


def _stops(ctx):  # type: ignore[no-untyped-def]
    return [r for r in ctx.services.orders.repo.all() if r.kind == KIND]


def _filled_sells(ctx):  # type: ignore[no-untyped-def]
    return [
        (r.kind, r.filled)
        for r in ctx.services.orders.repo.all()
        if r.side.value == "sell" and r.filled > 0
    ]


def _setup(tmp_path: Path, **risk: object):  # type: ignore[no-untyped-def]
    return _context(tmp_path, exchange_stop=True, exchange_stop_min_interval_seconds=60, **risk)


def test_open_position_gets_a_stop_at_the_hard_stop_sized_to_it(tmp_path: Path) -> None:
    ctx, venue = _setup(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))
        await risk_check(ctx, later(venue.clock))  # idempotent: still one stop

    asyncio.run(scenario())
    (stop,) = _stops(ctx)
    assert stop.status is IntentStatus.OPEN and stop.amount == Decimal(1)
    assert stop.trigger_price == Decimal("80.01")  # 20 % below the 100.01 entry
    assert stop.price == Decimal("79.60")  # limit 0.5 % below the trigger
    (position,) = status_view(ctx.settings, ctx.store, datetime.now(UTC))["positions"]
    assert position["daemon_stop"] == "80.008"
    assert position["exchange_stop"]["trigger_price"] == "80.01"
    assert position["stop_mismatch"] is None
    ctx.store.close()


def test_trailing_stop_moves_the_exchange_stop_up_rate_limited(tmp_path: Path) -> None:
    ctx, venue = _setup(tmp_path, trailing_activation_pct=17.65)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())  # its stop is placed with it
        await risk_check(ctx, venue.clock.now())
        venue.set_price(Decimal(118))  # trailing armed at 118 * 0.85 = 100.3
        await risk_check(ctx, venue.clock.advance(timedelta(seconds=10)))
        first = resting_stop(orders, "BTC/USDT")
        assert first is not None and first.trigger_price == Decimal("80.01")  # too soon
        await risk_check(ctx, venue.clock.advance(timedelta(minutes=2)))

    asyncio.run(scenario())
    stop = resting_stop(orders, "BTC/USDT")
    assert stop is not None and stop.trigger_price == Decimal("100.30")
    assert [s.status for s in _stops(ctx)].count(IntentStatus.OPEN) == 1
    assert "exchange_stop_moved" in [e.kind for e in ctx.store.recent_journal(20)]
    ctx.store.close()


def test_tier_sale_shrinks_the_stop_first_and_succeeds(tmp_path: Path) -> None:
    ctx, venue = _setup(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))
        venue.set_price(Decimal(121))
        await risk_check(ctx, later(venue.clock, 5))

    asyncio.run(scenario())
    assert _filled_sells(ctx) == [("take_profit", Decimal("0.25000"))]
    stop = resting_stop(orders, "BTC/USDT")
    assert stop is not None and stop.amount == Decimal("0.75")
    ctx.store.close()


def test_a_filled_exchange_stop_is_recorded_and_the_daemon_sells_nothing_more(
    tmp_path: Path,
) -> None:
    ctx, venue = _setup(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))
        venue.set_price(Decimal(80))  # through the 80.01 trigger, above the 79.60 limit
        await venue.inner.match_resting()  # the venue acts while the daemon is away
        await risk_check(ctx, later(venue.clock))
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    assert _filled_sells(ctx) == [(KIND, Decimal("1.00000"))]
    assert not orders.position("BTC/USDT").is_open()
    kinds = [e.kind for e in ctx.store.recent_journal(30)]
    assert "exchange_stop_filled" in kinds
    assert "stop_loss" not in kinds  # no exit of the daemon's own
    ctx.store.close()


def test_daemon_exit_cancels_the_resting_stop_and_sells_once(tmp_path: Path) -> None:
    ctx, venue = _setup(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))
        venue.set_price(Decimal(79))  # the daemon sees it first (no venue matching yet)
        await risk_check(ctx, later(venue.clock))
        await venue.inner.match_resting()
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    assert _filled_sells(ctx) == [("stop_loss", Decimal("1.00000"))]
    assert [s.status for s in _stops(ctx)] == [IntentStatus.CANCELED]
    assert not orders.position("BTC/USDT").is_open()
    ctx.store.close()


def test_no_stop_orders_when_switched_off(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path, exchange_stop=False)

    async def scenario() -> None:
        await ctx.services.orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    assert _stops(ctx) == []
    ctx.store.close()
