"""What every adapter under contract test must provide: a scriptable venue.

A *harness factory* is a zero-argument callable returning an async context manager (typically an
`@contextlib.asynccontextmanager` function) that yields a `VenueHarness`. Entering it starts a
fresh venue (fresh account, no orders); leaving it releases everything (servers, sessions, files).
The context manager is entered inside the event loop that runs the scenario, so a harness may
start loopback servers there.

The venue the harness builds must be Binance-like:

- symbol ``BTC/USDT``: amount step 0.00001, price tick 0.01, min amount 0.00001,
  min notional (min_cost) 5 USDT; maker/taker fees of the venue's choice (scenarios read them
  from ``load_markets()``), fees charged in USDT or BTC (scenarios read ``Fill.fee_asset``);
- the account starts with 10000 USDT and 0.5 BTC free, nothing used, no orders, no fills;
- it rests protective stops (`capabilities.stop_orders`, STOP_LIMIT, `replace_stop`; see
  `exchanges.stops`): a sell stop triggers once the best bid is at or below its trigger.

`set_market` replaces the market of `symbol`: `levels` bid levels at ``bid, bid - 1, bid - 2 ...``
and `levels` ask levels at ``ask, ask + 1, ask + 2 ...`` (one quote unit apart), each holding
`depth` base; the ticker's bid/ask are the best levels and its last price is `bid`.
Scenarios always call it before trading.

`advance` lets the venue match resting orders against the current scripted market (the paper
engine runs `match_resting()`); when it returns, resulting fills are visible through the adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Protocol

from exchanges.base import ExchangeAdapter

SYMBOL = "BTC/USDT"
START_USDT = Decimal("10000")
START_BTC = Decimal("0.5")


class VenueHarness(Protocol):
    @property
    def adapter(self) -> ExchangeAdapter: ...  # read-only: each harness holds its own type

    async def set_market(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        depth: Decimal = Decimal("1"),
        levels: int = 5,
    ) -> None: ...

    async def advance(self) -> None: ...


HarnessFactory = Callable[[], AbstractAsyncContextManager[VenueHarness]]
Scenario = Callable[[VenueHarness], Awaitable[None]]


def venue_scenario(scenario: Scenario) -> Callable[[HarnessFactory], None]:
    """Turn `async def test_x(venue)` into a sync pytest test run once per adapter.

    The returned test takes the parametrised `adapter_factory` fixture, opens a fresh venue
    and runs the scenario in its own event loop (no pytest-asyncio needed).
    """

    def test(adapter_factory: HarnessFactory) -> None:
        async def run() -> None:
            async with adapter_factory() as venue:
                await scenario(venue)

        asyncio.run(run())

    test.__name__ = scenario.__name__
    test.__qualname__ = scenario.__qualname__
    test.__doc__ = scenario.__doc__
    test.__module__ = scenario.__module__
    return test
