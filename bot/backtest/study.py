"""Many backtests over the same files: load candles and Fed data once, run trials with
different settings. The API parameter studies (`bot.research`) build on.

A trial runs exactly the code path of `qtbot backtest` (`run_backtest`), so a study's best
settings reproduce with `qtbot backtest` and those settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.backtest.candles import CandleSeries, load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.config.settings import Settings


@dataclass(frozen=True)
class StudyData:
    """What every trial of a study shares: the candles and where the Fed and liquidation data
    are read from."""

    series: tuple[CandleSeries, ...]
    fed_data: Path | None
    liquidations: tuple[Path, ...] = ()


def load_study_data(
    candles: Sequence[str | Path], fed_data: Path | None, liquidations: Sequence[Path] = ()
) -> StudyData:
    return StudyData(tuple(load_candles(c) for c in candles), fed_data, tuple(liquidations))


def run_trial(
    data: StudyData,
    settings: Settings,
    start: datetime | None = None,
    end: datetime | None = None,
) -> BacktestResult:
    """One backtest of `settings` over [start, end) of the study's data, as `qtbot backtest`
    runs it (same signals, same schedule, cash = the strategy budget)."""
    signals = build_signals(settings, data.fed_data, data.liquidations)
    config = BacktestConfig(
        series=data.series, settings=settings, signals=signals, start=start, end=end
    )
    return run_backtest(config)
