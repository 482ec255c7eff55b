"""The one composition root: the daemon and the backtest wire the same parts here.

`compose` takes what differs between them (store, clock, venue, signals, price history; the
backtest keeps plans in memory and may override the strategy parameters) and builds everything
else (the order manager, the resolved strategy parameters) the same way for both.
`open_daemon` adds the daemon's own choices: the database, the configured venue, live signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot.config.settings import Settings
from bot.config.values import parse_balances
from bot.execution.manager import OrderManager
from bot.feeds.live import LiveSignals
from bot.jobs import protective_stops
from bot.services.clock import Clock
from bot.services.context import JobContext, Services
from bot.signals.calendar import load_fomc_calendar
from bot.state.plans_repo import PlanRepo, StrategyRepo
from bot.state.store import Store
from bot.strategy.inputs import PriceHistory, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import ExchangeAdapter
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.market_data import CcxtPublicData
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger

_HUNDRED = Decimal(100)


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


@dataclass
class DaemonParts:
    """The daemon's context and the market-data client it must close at the end."""

    ctx: JobContext
    market_data: CcxtPublicData

    async def close_venue(self) -> None:
        await self.ctx.services.exchange.close()
        await self.market_data.close()


def open_daemon(settings: Settings, clock: Clock, with_signals: bool = True) -> DaemonParts:
    """Store, venue and live signals as the settings ask, wired through `compose`.

    The FOMC calendar is read first, so a damaged file stops start-up before anything is
    opened or created. `with_signals=False` (`qtbot panic`) needs no signal at all: an
    emergency sale must not depend on a calendar file."""
    calendar = load_fomc_calendar(settings.signals.fomc_calendar_path) if with_signals else None
    store = Store.open(settings.effective_database_url)
    try:
        exchange, market_data = build_venue(settings, store.engine, clock)
        signals = (
            None
            if calendar is None
            else LiveSignals(store, calendar, settings.signals.flush_params())
        )
        ctx = compose(
            settings,
            store=store,
            clock=clock,
            exchange=exchange,
            price_history=market_data,
            signals=signals,
        )
    except Exception:
        store.close()
        raise
    return DaemonParts(ctx, market_data)


def build_venue(
    settings: Settings, engine: Engine, clock: Clock
) -> tuple[ExchangeAdapter, CcxtPublicData]:
    """The exchange adapter (paper engine by default, or ccxt) and the public market data the
    anti-chase gate reads: the paper engine's own, or a public client of the venue (its testnet
    in testnet mode, where prices differ from the real market)."""
    ex = settings.exchange
    if ex.mode == "paper":
        fee = None if ex.paper_fee_pct is None else Decimal(str(ex.paper_fee_pct)) / _HUNDRED
        config = PaperConfig(
            venue=ex.id,
            starting_balances=parse_balances(ex.paper_starting_balance),
            slippage=Decimal(str(ex.paper_slippage_pct)) / _HUNDRED,
            maker_fee=fee,
            taker_fee=fee,
        )
        data = CcxtPublicData(ex.id, ex.rest_url, clock=clock.now)
        return PaperExchange(data, SqlPaperLedger(engine), clock.now, config), data

    exchange = CcxtExchange(
        ex.id,
        ex.mode,
        api_key=ex.api_key.get_secret_value() if ex.api_key else None,
        secret=ex.secret.get_secret_value() if ex.secret else None,
        password=ex.password.get_secret_value() if ex.password else None,
        rest_url=ex.rest_url,
        timeout=ex.timeout_seconds,
        clock=clock.now,
        markets_max_age=timedelta(minutes=ex.markets_refresh_minutes),
    )
    options = {"sandbox": True} if ex.mode == "testnet" else None
    return exchange, CcxtPublicData(ex.id, ex.rest_url, options=options, clock=clock.now)
