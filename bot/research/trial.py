"""One trial: a backtest of some settings over a window, through the same code path as
`qtbot backtest` (`bot.backtest.study.run_trial`), reduced to what a study stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from bot.backtest.candle_columns import Window
from bot.backtest.candles import to_ms
from bot.backtest.config import look_back
from bot.backtest.metrics import daily_points, daily_returns, performance
from bot.backtest.runner import BacktestResult
from bot.backtest.study import StudyData
from bot.config.settings import Settings
from bot.research.candidates import backtest
from bot.research.scores import ReturnMoments, moments, objective_value


@dataclass(frozen=True)
class Outcome:
    """A backtest's figures: strategy and buy-and-hold, the objective's score, the daily
    equity (for stitching), and the return moments (for the deflated Sharpe ratio)."""

    score: float
    strategy: dict[str, Any]
    buy_hold: dict[str, Any]
    fills: int
    daily_times: list[int]
    daily_equity: list[float]
    daily_buy_hold: list[float]
    moments: ReturnMoments | None

    def attrs(self) -> dict[str, Any]:
        """What a trial keeps in the study storage (JSON-serialisable)."""
        return {
            "strategy": self.strategy,
            "buy_hold": self.buy_hold,
            "fills": self.fills,
            "daily_sharpe": None if self.moments is None else self.moments.sharpe,
            "skew": None if self.moments is None else self.moments.skew,
            "kurtosis": None if self.moments is None else self.moments.kurtosis,
            "days": None if self.moments is None else self.moments.count,
        }


def outcome(result: BacktestResult, objective: str) -> Outcome:
    curve = result.curve
    times, equity = daily_points(curve.times, curve.strategy)
    _, held = daily_points(curve.times, curve.buy_hold)
    returns = daily_returns(float(result.cash), equity) if equity.size else np.array([])
    return Outcome(
        score=objective_value(result.strategy, objective),
        strategy=result.strategy.as_dict(),
        buy_hold=result.buy_hold.as_dict(),
        fills=len(result.fills),
        daily_times=[int(t) for t in times],
        daily_equity=[float(v) for v in equity],
        daily_buy_hold=[float(v) for v in held],
        moments=moments(returns),
    )


def _from(times: np.ndarray, values: np.ndarray, since_ms: int, start: float) -> float:
    """The value at the last bar close at or before `since_ms` (`start` before any bar)."""
    i = int(np.searchsorted(times, since_ms, "right")) - 1
    return float(values[i]) if i >= 0 else start


def outcome_since(result: BacktestResult, since: datetime, objective: str) -> Outcome:
    """The run's figures counted from `since` only: the equity then is the starting equity,
    positions held then carry on (a warmed-up test span)."""
    curve = result.curve
    since_ms = to_ms(since)
    keep = curve.times > since_ms
    times = curve.times[keep]
    fees = float(sum((f.fee for f in result.fills if f.time >= since), Decimal(0)))
    figures = []
    for values, exposed in ((curve.strategy, curve.exposed[keep]), (curve.buy_hold, None)):
        initial = _from(curve.times, values, since_ms, float(result.cash))
        figures.append(
            (initial, performance(since_ms, times, values[keep], initial, exposed, fees))
        )
    (initial, strategy), (_, buy_hold) = figures
    day_times, equity = daily_points(times, curve.strategy[keep])
    _, held = daily_points(times, curve.buy_hold[keep])
    returns = daily_returns(initial, equity) if equity.size else np.array([])
    return Outcome(
        score=objective_value(strategy, objective),
        strategy=strategy.as_dict(),
        buy_hold=buy_hold.as_dict(),
        fills=sum(1 for f in result.fills if f.time >= since),
        daily_times=[int(t) for t in day_times],
        daily_equity=[float(v) for v in equity],
        daily_buy_hold=[float(v) for v in held],
        moments=moments(returns),
    )


def as_loaded(data: StudyData, settings: Settings, start: datetime, end: datetime) -> StudyData:
    """The study's candles cut as `qtbot backtest --from START --to END` loads them: bars
    opening in [START - look_back, END). The replay's results depend (in the last digits) on
    how much history precedes the start, so a trial sees exactly what the command will, and
    its best settings reproduce byte for byte."""
    window = Window(to_ms(start - look_back(settings)), to_ms(end))
    series = tuple(s.slice(*window.bounds(s.ts)) for s in data.series)
    return StudyData(series, data.fed_data, data.liquidations, data.signals)


def evaluate(
    data: StudyData,
    settings: Settings,
    start: datetime,
    end: datetime,
    objective: str,
    candidates: Mapping[str, Any] | None = None,
    score_from: datetime | None = None,
) -> Outcome:
    """A backtest over [start, end); scored from `score_from` when given (warm-up before)."""
    result = backtest(as_loaded(data, settings, start, end), settings, start, end, candidates or {})
    if score_from is None:
        return outcome(result, objective)
    return outcome_since(result, score_from, objective)
