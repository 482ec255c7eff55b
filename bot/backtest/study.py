"""Many backtests over the same files: load candles and Fed data once, run trials with
different settings. The API parameter studies (`bot.research`) build on.

A trial runs exactly the code path of `qtbot backtest` (`run_backtest`), so a study's best
settings reproduce with `qtbot backtest` and those settings. What does not depend on the
trial's strategy and risk settings is built once per study: the signals (Fed regime as known
each day, FOMC calendar, flushes) are cached by the signal settings that shape them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.backtest.candles import CandleSeries, load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.fed_signals import RecordedSignals
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.config.settings import Settings


@dataclass(frozen=True)
class StudyData:
    """What every trial of a study shares: the candles and where the Fed and liquidation data
    are read from; `signals` caches the signals built from them per signal settings."""

    series: tuple[CandleSeries, ...]
    fed_data: Path | None
    liquidations: tuple[Path, ...] = ()
    signals: dict[str, RecordedSignals] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def signals_for(self, settings: Settings) -> RecordedSignals:
        """The signals `qtbot backtest` would build under `settings`, built once per distinct
        signal settings (the strategy and risk settings a study varies do not shape them)."""
        key = json.dumps(settings.signals.model_dump(mode="json"), sort_keys=True)
        signals = self.signals.get(key)
        if signals is None:
            signals = build_signals(settings, self.fed_data, self.liquidations)
            self.signals[key] = signals
        return signals


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
    config = BacktestConfig(
        series=data.series,
        settings=settings,
        signals=data.signals_for(settings),
        start=start,
        end=end,
    )
    return run_backtest(config)
