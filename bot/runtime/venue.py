"""The daemon's venue and parts: the paper engine or a ccxt adapter, the public market data,
the store and live signals, wired through `compose`.

Kept apart from `compose` so a backtest, which composes the same jobs over a simulated venue,
never imports ccxt (~1 s and ~95 MB of a 1 GB VPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot.config.settings import Settings
from bot.config.values import parse_balances
from bot.feeds.live import LiveSignals
from bot.runtime.compose import compose
from bot.services.clock import Clock
from bot.services.context import JobContext
from bot.signals.calendar import load_fomc_calendar
from bot.state.store import Store
from exchanges.base import ExchangeAdapter
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.ccxt.public_data import CcxtPublicData
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger

_HUNDRED = Decimal(100)


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
