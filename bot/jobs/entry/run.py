"""What one run of the entry job works with: inputs read once, the journal, the logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog

from bot.execution.manager import OrderManager
from bot.services.context import JobContext
from bot.state.plans_repo import PlanRepo
from bot.strategy.inputs import PriceHistory, RegimeView, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import ExchangeAdapter, Market, Ticker
from exchanges.errors import ExchangeError

log = structlog.get_logger("bot.strategy")


@dataclass
class EntryRun:
    """Inputs of one entry-job run at `now`; the signals are read once per run."""

    ctx: JobContext
    params: StrategyParams
    now: datetime
    repo: PlanRepo
    orders: OrderManager
    exchange: ExchangeAdapter
    signals: Signals | None
    history: PriceHistory | None
    markets: dict[str, Market] = field(default_factory=dict)
    regime: RegimeView | None = None
    hours_to_fomc: float | None = None
    # The earliest time this run's decisions may come out differently with the store, the
    # prices and the signals unchanged (None: never; `now`: with the prices, so at the next
    # run). The backtest skips the runs before it; the daemon ignores it.
    wake: datetime | None = None
    _tickers: dict[str, Ticker] = field(default_factory=dict)

    def look_again(self, at: datetime | None = None) -> None:
        """A decision of this run may change at `at` (None: with the price, at the next run)."""
        at = self.now if at is None else max(at, self.now)
        if self.wake is None or at < self.wake:
            self.wake = at

    def market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            raise ExchangeError(f"{symbol} is not a market on {self.exchange.name}")
        return market

    def dust(self, symbol: str) -> Decimal:
        market = self.markets.get(symbol)
        return (market.min_amount or Decimal(0)) if market else Decimal(0)

    async def ticker(self, symbol: str) -> Ticker:
        if symbol not in self._tickers:
            self._tickers[symbol] = await self.exchange.fetch_ticker(symbol)
        return self._tickers[symbol]

    async def price(self, symbol: str) -> Decimal:
        """Reference price (last, else mid); raises ExchangeError when the venue has none."""
        price = (await self.ticker(symbol)).price
        if price is None or price <= 0:
            raise ExchangeError(f"no price for {symbol}")
        return price

    def note(
        self,
        kind: str,
        message: str,
        *,
        symbol: str | None = None,
        level: str = "info",
        **data: Any,
    ) -> None:
        """One decision: a structlog event named `kind` and a journal line with the reason."""
        getattr(log, level)(kind, symbol=symbol, reason=message, **data)
        self.ctx.store.journal(self.now, kind, message, level=level, symbol=symbol, **data)
