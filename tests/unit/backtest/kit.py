"""Small candle scenarios for backtest tests: bars by hand, signals and settings by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from bot.backtest.candles import CandleSeries, to_ms
from bot.backtest.config import BacktestConfig
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.synthetic import random_walk_minutes
from bot.config.settings import Settings
from bot.strategy.inputs import RegimeView, StaticSignals
from bot.strategy.params import StrategyParams
from exchanges.base import OrderType

START = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
Bar = tuple[float, float, float, float]  # open, high, low, close


def series(
    bars: Sequence[Bar], symbol: str = "BTC/USDT", step: timedelta = DAY, start: datetime = START
) -> CandleSeries:
    for o, h, low, c in bars:
        assert low <= min(o, c) and h >= max(o, c), f"not a candle: {(o, h, low, c)}"
    data = np.array(bars, dtype=np.float64)
    step_ms = int(step / timedelta(milliseconds=1))
    ts = to_ms(start) + step_ms * np.arange(len(bars), dtype=np.int64)
    return CandleSeries(
        symbol,
        ts,
        data[:, 0].copy(),
        data[:, 1].copy(),
        data[:, 2].copy(),
        data[:, 3].copy(),
        np.zeros(len(bars)),
        step_ms,
        "test",
    )


def flat(price: float, count: int) -> list[Bar]:
    return [(price, price + 1, price - 1, price)] * count


def easing_signals(since: datetime = START - 30 * DAY) -> StaticSignals:
    signals = StaticSignals()
    signals.set_regime(since, RegimeView("easing", since, since, "test"))
    return signals


def hand_settings(**risk: Any) -> Settings:
    """No fees, no slippage, no account-level limits: every exit price is the level itself."""
    values: dict[str, Any] = {
        # The hand scenarios pin the stop-loss and tier mechanics: arm after the last tier.
        "trailing_arm_after_tiers": None,
        "take_profit_tiers": "20:25,50:25",
        "trailing_stop_pct": 10,
        "stop_loss_pct": 15,
        "max_asset_pct": 100,
        "daily_loss_limit_pct": None,
        "max_drawdown_pct": None,
    }
    values.update(risk)
    return Settings(
        risk=values,
        exchange={"paper_fee_pct": 0, "paper_slippage_pct": 0},
        strategy={"budget": "1000", "allocation": "BTC/USDT:100"},
    )


def one_shot_params(**overrides: Any) -> StrategyParams:
    """All the budget in one market tranche at the first job run."""
    values: dict[str, Any] = {
        "budget": Decimal("1000"),
        "allocation": (("BTC/USDT", Decimal(1)),),
        "tranches": 1,
        "order_type": OrderType.MARKET,
        "anti_chase_pct": None,
        "fomc_blackout_hours": 0.0,
    }
    values.update(overrides)
    return StrategyParams(**values)


def hand_run(
    bars: Sequence[Bar],
    params: StrategyParams | None = None,
    settings: Settings | None = None,
    **config: Any,
) -> BacktestResult:
    return run_backtest(
        BacktestConfig(
            series=[series(bars)],
            settings=settings or hand_settings(),
            signals=easing_signals(),
            job_every=DAY,
            strategy_params=params or one_shot_params(),
            **config,
        )
    )


def sells(result: BacktestResult) -> list[tuple[str, int | None, Decimal, Decimal]]:
    """(kind, tier, amount, price) of every sell fill, in order."""
    return [(f.kind, f.tier, f.amount, f.price) for f in result.fills if f.side.value == "sell"]


FOUR_HOURS = timedelta(hours=4)


def walk_4h(symbol: str, price: float, seed: int, bars: int = 180) -> Any:
    """4-hour candles cut from a seeded random walk (30 days)."""
    minutes = random_walk_minutes(symbol, to_ms(START), bars * 240, price, seed, daily_vol=0.05)
    rows = []
    for i in range(bars):
        o = float(minutes.open[i * 240])
        h = float(minutes.high[i * 240 : (i + 1) * 240].max())
        low = float(minutes.low[i * 240 : (i + 1) * 240].min())
        c = float(minutes.close[(i + 1) * 240 - 1])
        rows.append((o, h, low, c))
    return series(rows, symbol=symbol, step=FOUR_HOURS)


def exercising_config(**overrides: Any) -> BacktestConfig:
    """30 days of 4-hour candles, two symbols, rules tight enough to take a stop loss, a
    tier and a trailing stop: a scenario for comparing two ways of running the replay."""
    settings = Settings(
        risk={
            "trailing_arm_after_tiers": None,  # so a stop loss happens too
            "take_profit_tiers": "6:25,12:25",
            "trailing_stop_pct": 4,
            "stop_loss_pct": 6,
            "max_asset_pct": 100,
            # The equity kill switches sample equity only where bars are handed over; off
            # here so that both replays see the same account limits.
            "daily_loss_limit_pct": None,
            "max_drawdown_pct": None,
        },
        strategy={"budget": "1000", "allocation": "BTC/USDT:60,ETH/USDT:40"},
    )
    params = StrategyParams(
        budget=Decimal(1000),
        allocation=(("BTC/USDT", Decimal("0.6")), ("ETH/USDT", Decimal("0.4"))),
        tranches=3,
        entry_window_days=4,
        cycle_cooldown_days=2,
        fomc_blackout_hours=0.0,
    )
    values: dict[str, Any] = {
        "series": [walk_4h("BTC/USDT", 40000.0, 7), walk_4h("ETH/USDT", 2500.0, 11)],
        "settings": settings,
        "signals": easing_signals(),
        "strategy_params": params,
        "job_every": timedelta(hours=12),
    }
    values.update(overrides)
    return BacktestConfig(**values)
