"""Sales the venue would refuse: sized to its minimum, skipped when refused, and a holding too
small to sell never keeps the kill switch tripped (issue: a refused sale must never leave a
position unmanaged)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.jobs.risk_check import risk_check
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.test_risk_job import _context
from tests.unit.orders.venue import BTC_USDT, later

MIN_COST = BTC_USDT.min_cost or Decimal(0)


def _sell_records(ctx):  # type: ignore[no-untyped-def]
    return [r for r in ctx.services.orders.repo.all() if r.side.value == "sell"]


def test_tiers_below_the_minimum_notional_are_raised_and_the_rest_swept(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="0.1"), venue.clock.now())  # 10 USDT
        for price in ("121", "160"):
            venue.set_price(Decimal(price))
            await risk_check(ctx, later(venue.clock))
            await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    sells = _sell_records(ctx)
    # Tier 1 alone would be 0.025 BTC = 3.03 USDT, under the 5 USDT minimum: raised to it.
    assert [(r.kind, r.tier, r.status.value) for r in sells] == [
        ("take_profit", 1, "closed"),
        ("take_profit", 2, "closed"),
    ]
    assert sells[0].filled * Decimal(121) >= MIN_COST
    assert sells[0].filled < Decimal("0.05")
    # Tier 2 would leave less than the minimum behind: it sells everything held.
    assert not orders.position("BTC/USDT").is_open()
    reasons = [e.message for e in ctx.store.recent_journal(50) if e.kind == "take_profit"]
    assert any("raised to the venue's minimum sale" in r for r in reasons), reasons
    ctx.store.close()


def test_a_tier_the_venue_refuses_is_skipped_and_what_follows_still_arms(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path, take_profit_tiers="20:25")
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        venue.set_price(Decimal("121"))
        venue.faults.append("rejected")
        await risk_check(ctx, later(venue.clock))
        marks = orders.repo.marks()["BTC/USDT"]
        assert marks.tiers_skipped == frozenset({1})
        await risk_check(ctx, later(venue.clock))
        marks = orders.repo.marks()["BTC/USDT"]
        # Skipped counts as done: break-even fixed, the trailing stop (after the last tier) armed.
        assert marks.break_even is not None and marks.break_even > Decimal(100)
        assert marks.trailing_stop == Decimal("121") * Decimal("0.85")
        venue.set_price(Decimal("102"))  # under 121 * 0.85 = 102.85: the trailing stop sells
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    kinds = [(r.kind, r.status.value) for r in _sell_records(ctx)]
    assert kinds == [("take_profit", "rejected"), ("trailing_stop", "closed")]
    assert not orders.position("BTC/USDT").is_open()
    skipped = [e for e in ctx.store.recent_journal(50) if e.kind == "tier_skipped"]
    assert len(skipped) == 1 and "refused by the venue" in skipped[0].message
    ctx.store.close()


def test_a_holding_too_small_to_sell_lets_the_kill_switch_rearm(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path, max_drawdown_pct=0.01, kill_switch_cooldown_days=7)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="0.1"), venue.clock.now())  # 10 USDT
        await risk_check(ctx, later(venue.clock))
        # 0.1 BTC at 40 = 4 USDT: below the venue's minimum sale, the stop cannot sell it.
        venue.set_price(Decimal("40"))
        await risk_check(ctx, later(venue.clock))
        await risk_check(ctx, later(venue.clock))
        assert ctx.store.get_value("risk.entries_blocked") not in (None, "[]")
        venue.clock.advance(timedelta(days=8))
        await risk_check(ctx, venue.clock.now())

    asyncio.run(scenario())
    assert _sell_records(ctx) == []  # nothing sent that the venue would refuse
    assert orders.position("BTC/USDT").is_open()
    journal = ctx.store.recent_journal(50)
    kinds = [e.kind for e in journal]
    assert kinds.count("position_unsellable") == 1  # said once, not every tick
    assert "kill_switch_rearmed" in kinds
    ctx.store.close()
