"""Reading only the asked range (plus the strategy's look-back) replays exactly what reading
the whole file does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.backtest.candle_datadir import shipped_candles
from bot.backtest.candles import load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import run_backtest
from bot.cli.backtest import load_series
from bot.config.settings import Settings


def test_a_windowed_load_replays_like_the_whole_file() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    start, end = datetime(2024, 9, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    # BTC alone: the replay's price tick comes from the lowest price of the series it is
    # handed (bot/backtest/world.py, market_for), which for ETH differs between its 2018 lows
    # and this window; BTC's tick is 0.01 either way, so only the loading differs here.
    files = shipped_candles(["BTC/USDT"])
    whole = [load_candles(f) for f in files]
    history = timedelta(days=settings.strategy.anti_chase_days + 2)
    window = load_series(files, start, end, history)
    assert all(len(w) < len(s) for w, s in zip(window, whole, strict=True))
    results = [
        run_backtest(BacktestConfig(series, settings, build_signals(settings, None), start, end))
        for series in (whole, window)
    ]
    assert results[0].fills, "the period must trade for the comparison to mean anything"
    assert results[1].fills == results[0].fills
    assert results[1].orders == results[0].orders
    assert results[1].strategy == results[0].strategy
