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
from bot.config import Settings
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
            extra_services={"strategy_params": params or one_shot_params()},
            **config,
        )
    )


def sells(result: BacktestResult) -> list[tuple[str, int | None, Decimal, Decimal]]:
    """(kind, tier, amount, price) of every sell fill, in order."""
    return [(f.kind, f.tier, f.amount, f.price) for f in result.fills if f.side.value == "sell"]
