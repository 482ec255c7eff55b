"""Run one backtest: build the world, replay, collect the results. The public entry point."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog

from bot.backtest.candles import CandleSeries, ms_to_datetime, to_ms
from bot.backtest.config import BacktestConfig, backtest_settings
from bot.backtest.metrics import Performance, performance
from bot.backtest.replay import Replay, ReplayStats
from bot.backtest.results import (
    EquityCurve,
    RoundTrip,
    TradeFill,
    equity_curve,
    label_fills,
    round_trips,
    tier_counts,
)
from bot.backtest.world import World, build_world
from bot.config.settings import Settings
from bot.orders.intents import OrderRecord
from bot.state.store import JournalView
from bot.strategy.allocation import allocate
from bot.strategy.params import StrategyParams


@dataclass(frozen=True)
class BacktestResult:
    settings: Settings
    params: StrategyParams
    start: datetime
    end: datetime
    cash: Decimal
    series: tuple[CandleSeries, ...]  # the replayed bars only
    fills: tuple[TradeFill, ...]
    orders: tuple[OrderRecord, ...]
    trips: tuple[RoundTrip, ...]
    curve: EquityCurve
    strategy: Performance
    buy_hold: Performance
    tiers: dict[str, int]
    stats: ReplayStats
    final_balances: dict[str, Decimal]
    journal_kinds: dict[str, int]
    journal: tuple[JournalView, ...]  # every decision the jobs journaled, oldest first


@contextmanager
def quiet_logs(level: int = logging.ERROR) -> Iterator[None]:
    """Decision logs below `level` are dropped for the run: a backtest makes thousands of
    decisions and the journal keeps them all. Errors go to stderr, never to stdout (where
    `--json` prints). The previous structlog configuration is restored afterwards."""
    previous = structlog.get_config()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**previous)


def _span(series: list[CandleSeries], config: BacktestConfig) -> tuple[datetime, datetime]:
    first = min(int(s.ts[0]) for s in series)
    last = max(int(s.end_ts[-1]) for s in series)
    start = config.start or ms_to_datetime(first)
    end = config.end or ms_to_datetime(last)
    if end <= start:
        raise ValueError(f"nothing to replay between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    return start, end


def _buy_hold(
    params: StrategyParams, replayed: list[CandleSeries], cash: Decimal, fee: Decimal
) -> tuple[dict[str, float], float]:
    """The strategy's allocation bought at each symbol's first replayed open, taker fee paid."""
    budgets = {b.symbol: b.budget for b in allocate(params).symbols}
    total = sum(budgets.values(), Decimal(0))
    scale = min(Decimal(1), cash / total) if total > 0 else Decimal(0)
    amounts: dict[str, float] = {}
    spent = 0.0
    for s in replayed:
        budget = float(budgets.get(s.symbol, Decimal(0)) * scale)
        if budget <= 0 or len(s) == 0:
            continue
        amounts[s.symbol] = budget / (float(s.open[0]) * (1 + float(fee)))
        spent += budget
    return amounts, float(cash) - spent


async def _replay(
    config: BacktestConfig, on_progress: Callable[[int], None] | None, skip_quiet_runs: bool
) -> tuple[World, ReplayStats, datetime, datetime, Settings, Decimal]:
    series = list(config.series)
    settings = backtest_settings(config.settings, [s.symbol for s in series])
    start, end = _span(series, config)
    cash = config.cash if config.cash is not None else settings.strategy.budget
    world = build_world(
        settings,
        series,
        config.signals,
        start,
        cash,
        config.strategy_params,
        database=config.database,
    )
    replay = Replay(
        world,
        series,
        start,
        end,
        config.schedule,
        on_progress,
        config.hand_every_bar,
        skip_quiet_runs,
    )
    stats = await replay.run()
    return world, stats, start, end, settings, cash


def run_backtest(
    config: BacktestConfig,
    on_progress: Callable[[int], None] | None = None,
    *,
    skip_quiet_runs: bool = True,
) -> BacktestResult:
    """Replay `config` and measure it; `on_progress(bars)` is called as bars are done.
    `skip_quiet_runs=False` runs the jobs on every scheduled run, for checking that skipping
    the quiet ones changes no decision."""
    with quiet_logs():
        world, stats, start, end, settings, cash = asyncio.run(
            _replay(config, on_progress, skip_quiet_runs)
        )
    try:
        return _collect(config, world, stats, start, end, settings, cash)
    finally:
        world.ctx.store.close()


def _collect(
    config: BacktestConfig,
    world: World,
    stats: ReplayStats,
    start: datetime,
    end: datetime,
    settings: Settings,
    cash: Decimal,
) -> BacktestResult:
    params = settings.strategy.params()
    replayed = [s.between(start, end) for s in config.series]
    replayed = [s for s in replayed if len(s)]
    records = world.orders.repo.all()
    fills = label_fills(world.ledger.fills(), records)
    fee = next(iter(world.markets.values())).taker_fee
    amounts, bh_cash = _buy_hold(params, replayed, cash, fee)
    curve = equity_curve(replayed, fills, float(cash), amounts, bh_cash)
    start_ms = to_ms(start)
    fees = float(sum((f.fee for f in fills), Decimal(0)))
    bh_fees = float(
        sum(amounts[s.symbol] * float(s.open[0]) for s in replayed if s.symbol in amounts)
    )
    strategy = performance(start_ms, curve.times, curve.strategy, float(cash), curve.exposed, fees)
    buy_hold = performance(
        start_ms, curve.times, curve.buy_hold, float(cash), None, bh_fees * float(fee)
    )
    balances = {a: b.total for a, b in world.ledger.balances().items() if b.total != 0}
    journal = tuple(reversed(world.ctx.store.recent_journal(limit=sys.maxsize)))
    kinds: dict[str, int] = {}
    for entry in journal:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    return BacktestResult(
        settings=settings,
        params=params,
        start=start,
        end=end,
        cash=cash,
        series=tuple(replayed),
        fills=tuple(fills),
        orders=tuple(records),
        trips=tuple(round_trips(fills)),
        curve=curve,
        strategy=strategy,
        buy_hold=buy_hold,
        tiers=tier_counts(fills),
        stats=stats,
        final_balances=balances,
        journal_kinds=dict(sorted(kinds.items())),
        journal=journal,
    )
