"""A paper venue whose order calls wait until the test releases them: an order send in flight.

`entered` is set when a create/cancel reaches the venue; the venue acts (and answers) only once
`release` is set, the way a slow exchange answers after the bot's stop has begun.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.orders.intents import OrderIntent
from exchanges.base import Order, OrderRequest, OrderType, Side
from tests.unit.orders.venue import FaultyVenue


def market_buy(cause: str = "plan-1|tranche-1", amount: str = "1") -> OrderIntent:
    return OrderIntent(
        cause=cause,
        kind="tranche",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.MARKET,
        amount=Decimal(amount),
        reason="test tranche",
    )


def limit_buy(cause: str = "plan-1|tranche-1", price: str = "90") -> OrderIntent:
    return OrderIntent(
        cause=cause,
        kind="tranche",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        amount=Decimal(1),
        price=Decimal(price),
        reason="test tranche",
    )


@dataclass
class HeldVenue:
    inner: FaultyVenue
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    answered: list[str] = field(default_factory=list)

    async def create_order(self, req: OrderRequest) -> Order:
        self.entered.set()
        await self.release.wait()
        order = await self.inner.create_order(req)
        self.answered.append(req.client_order_id)
        return order

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        self.entered.set()
        await self.release.wait()
        order = await self.inner.inner.cancel_order(symbol, client_order_id)
        self.answered.append(client_order_id)
        return order

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
