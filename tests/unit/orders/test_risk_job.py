"""The risk job end to end on the paper engine: tiers once each, then the trailing stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config.settings import Settings
from bot.jobs.risk_check import risk_check
from bot.runtime.compose import compose
from bot.services.context import JobContext
from bot.state.orders_repo import OrderRepo
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory
from exchanges.base import Fill, OrderType, Side
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.venue import START, db_url, later, make_venue


def _context(tmp_path: Path, **risk: object) -> tuple[JobContext, Any]:
    # The daemon's own rules under test; exchange-resting stops have their own tests.
    risk = {
        "trailing_stop_pct": 15,
        "stop_loss_pct": 20,
        "exchange_stop": False,
        "trailing_arm_after_tiers": None,  # hard stop and tiers under test: arm after the last
        **risk,
    }
    settings = Settings(risk=risk)
    store = Store.open(db_url(tmp_path))
    venue = make_venue(store.engine)
    ctx = compose(
        settings,
        store=store,
        clock=venue.clock,
        exchange=venue,
        price_history=MemoryPriceHistory(),
        signals=None,
    )
    return ctx, venue


def _sells(ctx: JobContext) -> list[tuple[str, Decimal]]:
    return [(r.kind, r.filled) for r in ctx.services.orders.repo.all() if r.side.value == "sell"]


def test_playbook_exits_tier_by_tier_then_trailing_stop(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        for price, expected in [
            ("110", []),
            ("121", [("take_profit", Decimal("0.25"))]),
            ("125", [("take_profit", Decimal("0.25"))]),  # tier 1 does not fire twice
            ("121", [("take_profit", Decimal("0.25"))]),
            ("160", [("take_profit", Decimal("0.25"))] * 2),
            ("170", [("take_profit", Decimal("0.25"))] * 2),  # stop now 170 * 0.85 = 144.5
            ("145", [("take_profit", Decimal("0.25"))] * 2),
            ("144", [("take_profit", Decimal("0.25"))] * 2 + [("trailing_stop", Decimal("0.5"))]),
            ("120", [("take_profit", Decimal("0.25"))] * 2 + [("trailing_stop", Decimal("0.5"))]),
        ]:
            venue.set_price(Decimal(price))
            await risk_check(ctx, later(venue.clock))
            assert _sells(ctx) == expected, price
        assert not orders.position("BTC/USDT").is_open()

    asyncio.run(scenario())
    kinds = [e.kind for e in ctx.store.recent_journal(50)]
    assert kinds.count("take_profit") == 2 and kinds.count("trailing_stop") == 1
    reasons = [e.message for e in ctx.store.recent_journal(50) if e.kind == "take_profit"]
    assert any("tier 1" in r for r in reasons)
    ctx.store.close()


def test_hard_stop_sells_everything_once(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="2"), venue.clock.now())
        venue.set_price(Decimal("79"))
        await risk_check(ctx, later(venue.clock))
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    assert _sells(ctx) == [("stop_loss", Decimal("2"))]
    assert not orders.position("BTC/USDT").is_open()
    ctx.store.close()


def test_restart_keeps_the_trailing_stop_and_taken_tiers(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def before_restart() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        for price in ("121", "160", "200"):
            venue.set_price(Decimal(price))
            await risk_check(ctx, later(venue.clock))

    asyncio.run(before_restart())
    ctx.store.close()
    # A new process: new store handle, new order manager, same database and venue.
    store = Store.open(db_url(tmp_path))
    ctx2 = compose(
        ctx.settings,
        store=store,
        clock=venue.clock,
        exchange=venue,
        price_history=MemoryPriceHistory(),
        signals=None,
    )
    marks = ctx2.services.orders.repo.marks()["BTC/USDT"]
    assert marks.high_water_mark >= Decimal("200") and marks.trailing_stop == Decimal("170")

    async def after_restart() -> None:
        venue.set_price(Decimal("175"))  # above the persisted stop: nothing happens
        await risk_check(ctx2, later(venue.clock))
        assert [k for k, _ in _sells(ctx2)] == ["take_profit", "take_profit"]
        venue.set_price(Decimal("169"))
        await risk_check(ctx2, later(venue.clock))

    asyncio.run(after_restart())
    assert [k for k, _ in _sells(ctx2)] == ["take_profit", "take_profit", "trailing_stop"]
    store.close()


def test_drawdown_kill_switch_rearms_after_a_flat_cool_down(tmp_path: Path) -> None:

    ctx, venue = _context(tmp_path, max_drawdown_pct=0.3, kill_switch_cooldown_days=7)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="2"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))  # equity peak ~10000
        venue.set_price(Decimal("79"))  # stop loss sells; equity down ~0.4 % from its peak
        await risk_check(ctx, later(venue.clock))
        await risk_check(ctx, later(venue.clock))
        assert ctx.store.get_value("risk.entries_blocked") not in (None, "[]")
        venue.clock.advance(timedelta(days=3))
        await risk_check(ctx, venue.clock.now())
        assert "kill_switch_rearmed" not in [e.kind for e in ctx.store.recent_journal(20)]
        venue.clock.advance(timedelta(days=5))
        await risk_check(ctx, venue.clock.now())

    asyncio.run(scenario())
    kinds = [e.kind for e in ctx.store.recent_journal(30)]
    assert "kill_switch_rearmed" in kinds and "entries_allowed" in kinds
    assert ctx.store.get_value("risk.entries_blocked") == "[]"
    ctx.store.close()


def test_same_millisecond_fills_keep_the_venue_order(tmp_path: Path) -> None:

    ctx, _ = _context(tmp_path)
    repo = OrderRepo(ctx.store.engine)

    def fill(trade_id: str, side: Side) -> Fill:
        return Fill(
            trade_id,
            None,
            None,
            "BTC/USDT",
            side,
            Decimal(1),
            Decimal(100),
            Decimal(0),
            "USDT",
            START,
            False,
        )

    repo.record_fills([fill("paper-t10", Side.SELL), fill("paper-t9", Side.BUY)], START)
    assert [f.fill_id for f in repo.position_fills("BTC/USDT")] == ["paper-t9", "paper-t10"]
    ctx.store.close()


def test_exit_that_expires_half_filled_is_completed_on_the_next_tick(tmp_path: Path) -> None:
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        await risk_check(ctx, later(venue.clock))
        # A thin book: 5 levels of 0.1 BTC take only half of the 1 BTC stop-loss sale (M3).
        venue.set_price(Decimal(79), depth=Decimal("0.1"))
        await risk_check(ctx, later(venue.clock))
        assert orders.position("BTC/USDT").size == Decimal("0.5")
        venue.set_price(Decimal(78), depth=Decimal("10"))
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    assert _sells(ctx) == [("stop_loss", Decimal("0.50000")), ("stop_loss", Decimal("0.50000"))]
    assert not orders.position("BTC/USDT").is_open()
    ctx.store.close()


def test_a_tier_sale_cancels_the_resting_tranche_buy_in_the_same_check(tmp_path: Path) -> None:
    # The entry job cancels the rest of the plan only at its next run; a limit tranche left
    # resting until then could fill after the sale: buying back into the take-profit.
    ctx, venue = _context(tmp_path)
    orders = ctx.services.orders

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), venue.clock.now())
        resting = await orders.submit(
            buy("plan-1|tranche-2", amount="1", type=OrderType.LIMIT, price=Decimal("95")),
            venue.clock.now(),
        )
        assert resting.status.value == "open"
        venue.set_price(Decimal("121"))
        await risk_check(ctx, later(venue.clock))

    asyncio.run(scenario())
    records = {r.cause: r for r in orders.repo.all()}
    assert records["plan-1|tranche-2"].status.value == "canceled"
    assert [k for k, _ in _sells(ctx)] == ["take_profit"]
    ctx.store.close()
