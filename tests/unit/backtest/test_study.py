"""A study's trials share signals built once, and each trial is still `qtbot backtest`'s run."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import run_backtest
from bot.backtest.study import load_study_data, run_trial
from bot.config.settings import Settings
from tests.unit.signals.data_paths import shared_file

START = datetime(2019, 6, 1, tzinfo=UTC)
END = datetime(2020, 1, 1, tzinfo=UTC)


def test_trials_share_signals_per_signal_settings_and_decide_as_a_fresh_backtest() -> None:
    candles = [shared_file(f"{a}_USDT-1d.csv") for a in ("BTC", "ETH")]
    fed = shared_file("WALCL.csv").parent
    data = load_study_data(candles, fed)
    tight = Settings(risk={"stop_loss_pct": 10, "take_profit_tiers": "10:50"})
    first = run_trial(data, Settings(), START, END)
    run_trial(data, tight, START, END)
    assert len(data.signals) == 1  # strategy and risk settings do not rebuild them
    run_trial(data, Settings(signals={"regime_override": "easing"}), START, END)
    assert len(data.signals) == 2

    again = run_trial(data, tight, START, END)
    fresh = run_backtest(
        BacktestConfig(
            series=data.series,
            settings=tight,
            signals=build_signals(tight, fed),
            start=START,
            end=END,
        )
    )
    assert again.fills == fresh.fills and fresh.fills
    assert again.orders == fresh.orders
    assert again.journal == fresh.journal
    assert first.fills != fresh.fills  # the settings do matter here
