"""A paper venue, order manager, signals and clock wired like the daemon, for strategy tests.

The venue is the real PaperExchange on scripted books (`set_price`), persisted in the same
SQLite file as the bot's store, so a test can "restart" by opening everything anew.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from bot.config.settings import Settings
from bot.execution.manager import OrderManager
from bot.jobs.entry.job import entry_job
from bot.jobs.risk_check import risk_check
from bot.jobs.venue import paper_match
from bot.runtime.compose import compose
from bot.services.clock import SimulatedClock
from bot.services.context import JobContext
from bot.signals.regime_types import Regime
from bot.state.plans_repo import StrategyRepo, create_strategy_tables
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory, RegimeView, StaticSignals
from bot.strategy.params import StrategyParams
from bot.strategy.plans import Plan, Tranche
from exchanges.base import Market
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger

T = TypeVar("T")
START = datetime(2025, 12, 1, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _market(base: str, step: str = "0.00001") -> Market:
    return Market(
        symbol=f"{base}/USDT",
        base=base,
        quote="USDT",
        amount_step=Decimal(step),
        price_tick=Decimal("0.01"),
        min_amount=Decimal(step),
        max_amount=Decimal("1000000"),
        min_cost=Decimal("5"),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


MARKETS = [_market("BTC"), _market("ETH"), _market("SOL"), _market("AAVE")]


def params(**overrides: Any) -> StrategyParams:
    """BTC only, 1000 USDT, 4 tranches over 21 days, no anti-chase unless asked."""
    base: dict[str, Any] = {
        "budget": Decimal("1000"),
        "allocation": (("BTC/USDT", Decimal(1)),),
        "anti_chase_pct": None,
        "fomc_blackout_hours": 0.0,
    }
    base.update(overrides)
    return StrategyParams(**base)


def regime(name: Regime | str, since: datetime = START - 30 * DAY) -> RegimeView:
    return RegimeView(name, since, since if name != "tightening" else None, "test")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Bench:
    """The daemon's pieces around one database file; `restart()` rebuilds them from it."""

    path: Path
    strategy: StrategyParams
    settings: Settings
    clock: SimulatedClock
    data: StaticMarketData
    signals: StaticSignals
    history: MemoryPriceHistory
    balances: dict[str, Decimal]
    ctx: JobContext = field(init=False)
    venue: PaperExchange = field(init=False)
    orders: OrderManager = field(init=False)

    def __post_init__(self) -> None:
        self._open()

    def _open(self) -> None:
        store = Store.open(f"sqlite:///{self.path}")
        create_strategy_tables(store.engine)
        config = PaperConfig(venue="binance", starting_balances=self.balances)
        self.venue = PaperExchange(self.data, SqlPaperLedger(store.engine), self.clock.now, config)
        self.ctx = compose(
            self.settings,
            store=store,
            clock=self.clock,
            exchange=self.venue,
            price_history=self.history,
            signals=self.signals,
            strategy_params=self.strategy,
        )
        self.orders = self.ctx.services.orders

    def restart(self) -> None:
        """A new process on the same database and venue state: nothing kept in memory."""
        self.ctx.store.close()
        self._open()

    def close(self) -> None:
        self.ctx.store.close()

    @property
    def repo(self) -> StrategyRepo:
        return StrategyRepo(self.ctx.store.engine)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def set_price(self, symbol: str, price: str | Decimal, depth: str = "1000") -> None:
        bid = Decimal(price)
        book = scripted_book(
            symbol, bid, bid + Decimal("0.01"), Decimal(depth), 5, self.now, Decimal("0.01")
        )
        self.data.set_order_book(book)

    def advance(self, delta: timedelta) -> datetime:
        return self.clock.advance(delta)

    async def tick(self, *, risk: bool = True) -> None:
        """One pass of the daemon's jobs at the current time: match, entries, risk."""
        await paper_match(self.ctx, self.now)
        await entry_job(self.ctx, self.now)
        if risk:
            await risk_check(self.ctx, self.now)

    def plans(self, symbol: str | None = None) -> list[Plan]:
        return self.repo.plans(symbol)

    def tranches(self, plan: Plan | None = None) -> tuple[Tranche, ...]:
        plan = plan or self.plans()[-1]
        return self.repo.tranches(plan.plan_id)

    def journal(self, kind: str | None = None, limit: int = 500) -> list[Any]:
        return list(reversed(self.ctx.store.recent_journal(limit, kind)))

    def buys(self) -> list[Any]:
        return [r for r in self.orders.repo.all() if r.side.value == "buy"]


def make_bench(
    tmp_path: Path,
    strategy: StrategyParams | None = None,
    *,
    regime_name: Regime | str | None = "easing",
    prices: dict[str, str] | None = None,
    balances: dict[str, Decimal] | None = None,
    **risk: Any,
) -> Bench:
    clock = SimulatedClock(START)
    signals = StaticSignals()
    if regime_name is not None:  # "easing", "neutral" or "tightening"
        signals.set_regime(START - 30 * DAY, regime(regime_name))
    bench = Bench(
        path=tmp_path / "bot.sqlite",
        strategy=strategy or params(),
        # Entries under test: venue-resting stops (tests/unit/orders) stay out of the way.
        settings=Settings(
            risk={
                "trailing_stop_pct": 15,
                "stop_loss_pct": 20,
                "exchange_stop": False,
                "trailing_arm_after_tiers": None,
                **risk,
            }
        ),
        clock=clock,
        data=StaticMarketData(MARKETS),
        signals=signals,
        history=MemoryPriceHistory(),
        balances=balances or {"USDT": Decimal(10000)},
    )
    for symbol, price in (prices or {"BTC/USDT": "100"}).items():
        bench.set_price(symbol, price)
    return bench


async def run_until(bench: Bench, until: datetime, step: timedelta = 6 * HOUR) -> None:
    """Tick every `step` from the current time up to and including `until`."""
    while bench.now < until:
        bench.advance(min(step, until - bench.now))
        await bench.tick()


def causes(bench: Bench) -> list[str]:
    """Causes of every buy order sent, in order (one per attempt that reached the venue)."""
    return [r.cause for r in bench.buys()]
