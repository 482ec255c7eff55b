"""The one composition root: the daemon and the backtest wire the same parts here.

`compose` takes what differs between them (store, clock, venue, signals, price history; the
backtest keeps plans in memory and may override the strategy parameters) and builds everything
else (the order manager, the resolved strategy parameters) the same way for both.
`bot.runtime.venue.open_daemon` adds the daemon's own choices: the database, the configured
venue, live signals (apart, so the backtest never imports ccxt).
"""

from __future__ import annotations

from datetime import datetime

from bot.config.settings import Settings
from bot.execution.manager import OrderManager
from bot.jobs import protective_stops
from bot.services.clock import Clock
from bot.services.context import JobContext, Services
from bot.state.plans_repo import PlanRepo, StrategyRepo
from bot.state.store import Store
from bot.strategy.inputs import PriceHistory, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import ExchangeAdapter


def compose(
    settings: Settings,
    *,
    store: Store,
    clock: Clock,
    exchange: ExchangeAdapter,
    price_history: PriceHistory,
    signals: Signals | None,
    plans: PlanRepo | None = None,
    strategy_params: StrategyParams | None = None,
    started_at: datetime | None = None,
    name: str = "daemon",
) -> JobContext:
    """The jobs' context: one order manager over `exchange` (its buy fills protected by the
    exchange stop at once, `protective_stops.attach`), the parameters resolved once."""
    services = Services(
        exchange=exchange,
        orders=OrderManager(store, exchange, settings.exchange.id),
        plans=plans if plans is not None else StrategyRepo(store.engine),
        price_history=price_history,
        strategy_params=strategy_params or settings.strategy.params(),
        signals=signals,
    )
    ctx = JobContext(
        settings=settings,
        store=store,
        clock=clock,
        started_at=started_at or clock.now(),
        name=name,
        services=services,
    )
    # Whichever job records a buy fill gives the position its exchange stop in that run.
    protective_stops.attach(ctx)
    return ctx
