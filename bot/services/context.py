"""What every job is handed: settings, store, clock and, for jobs that trade, typed services.

`Context` is the read side (status page, notifications, `qtbot status`); `JobContext` adds the
`Services` that the one composition root (`bot.runtime.compose`) builds for the daemon and the
backtest alike. A job is `job(ctx, now)`: APScheduler or the replay only decides when it runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config.settings import Settings
from bot.execution.manager import OrderManager
from bot.services.clock import Clock
from bot.state.plans_repo import PlanRepo
from bot.state.store import Store
from bot.strategy.inputs import PriceHistory, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import ExchangeAdapter


@dataclass
class Context:
    settings: Settings
    store: Store
    clock: Clock
    started_at: datetime
    name: str = "daemon"


@dataclass
class Services:
    """The adapters the trading jobs use, wired once by the composition root."""

    exchange: ExchangeAdapter
    orders: OrderManager
    plans: PlanRepo
    price_history: PriceHistory
    strategy_params: StrategyParams
    signals: Signals | None = None


@dataclass
class JobContext(Context):
    services: Services = field(kw_only=True)


JobFunction = Callable[[JobContext, datetime], Awaitable[None] | None]


@dataclass(frozen=True)
class JobSpec:
    """A job and how often it runs (seconds of the bot's clock)."""

    name: str
    function: JobFunction
    interval_seconds: float
