"""An exit of everything sells what is held when it goes out, and what was bought while it went
out too (issue #20: no exit decision lost): the cycle's exit cause filled, the position still
open, the next tick sells the rest under the next cause of the chain, never the same id."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config.settings import Settings
from bot.jobs.risk_check import risk_check
from bot.orders.intents import IntentStatus
from bot.runtime.compose import compose
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory
from exchanges.base import Order, OrderRequest, OrderType, Side
from tests.unit.orders.test_order_manager import buy
from tests.unit.orders.venue import FaultyVenue, db_url, later, make_venue


@dataclass
class BuyDuringTheExit:
    """The paper venue, except that a tranche of ours (recorded, as the entry job records it)
    buys just before the first market sale reaches the venue: the entry job racing the exit."""

    venue: FaultyVenue
    ctx: Any = None
    raced: bool = False

    async def create_order(self, req: OrderRequest) -> Order:
        if req.side is Side.SELL and req.type is OrderType.MARKET and not self.raced:
            self.raced = True
            await self._tranche()
        return await self.venue.create_order(req)

    async def _tranche(self) -> None:
        orders, now = self.ctx.services.orders, self.venue.clock.now()
        intent = buy("plan-1|tranche-2", amount="0.5")
        record = orders.repo.insert_intent(orders.client_id(intent.cause), intent, now)
        request = OrderRequest(
            record.client_order_id, "BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.5")
        )
        order = await self.venue.inner.create_order(request)
        orders.repo.update(record.client_order_id, now, IntentStatus.CLOSED, order=order, sent=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.venue, name)


def test_what_is_bought_while_the_exit_goes_out_is_sold_next_tick(tmp_path: Path) -> None:
    store = Store.open(db_url(tmp_path))
    racing = BuyDuringTheExit(make_venue(store.engine))
    settings = Settings(
        risk={"stop_loss_pct": 20, "trailing_arm_after_tiers": None, "exchange_stop": False}
    )
    ctx = compose(
        settings,
        store=store,
        clock=racing.venue.clock,
        exchange=racing,  # type: ignore[arg-type]
        price_history=MemoryPriceHistory(),
        signals=None,
    )
    racing.ctx = ctx
    orders = ctx.services.orders
    clock = racing.venue.clock

    async def scenario() -> None:
        await orders.submit(buy(amount="1"), clock.now())
        racing.venue.set_price(Decimal(79))  # through the 80.01 hard stop
        await risk_check(ctx, later(clock))
        assert orders.position("BTC/USDT").size == Decimal("0.5")  # bought during the exit
        await risk_check(ctx, later(clock))

    asyncio.run(scenario())
    exits = [
        (r.cause.rsplit("|", 1)[-1], r.status, r.filled)
        for r in orders.repo.all()
        if r.kind == "stop_loss"
    ]
    assert exits == [
        ("exit", IntentStatus.CLOSED, Decimal("1")),
        ("1", IntentStatus.CLOSED, Decimal("0.5")),
    ]
    assert not orders.position("BTC/USDT").is_open()
    assert len({r.client_order_id for r in orders.repo.all()}) == len(orders.repo.all())
    store.close()
