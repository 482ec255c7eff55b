"""Skipping quiet bars must change no decision, and equal inputs must give equal bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.backtest.candles import to_ms
from bot.backtest.report import summary_dict, summary_json
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.synthetic import random_walk_minutes
from bot.config.settings import Settings
from bot.strategy.params import StrategyParams
from tests.unit.backtest.kit import START, exercising_config


@pytest.fixture(scope="module")
def skipping() -> BacktestResult:
    return run_backtest(exercising_config())


def _second(stamp: str | None) -> str | None:
    # Steps inside one candle are stamped 1 ms apart in the order they run; handing more
    # bars adds steps (a new high seen), which shifts later stamps of the same candle.
    return None if stamp is None else stamp[:19]


def _decisions(result: BacktestResult) -> dict[str, Any]:
    data = summary_dict(result)
    for row in data["trades"]:
        row["time"] = _second(row["time"])
    for row in data["orders"]:
        row["created"], row["updated"] = _second(row["created"]), _second(row["updated"])
    return {key: data[key] for key in ("trades", "orders", "final_balances", "exits")}


def test_skipping_quiet_bars_changes_no_fill_order_or_balance(skipping: BacktestResult) -> None:
    every_bar = run_backtest(exercising_config(hand_every_bar=True))
    assert every_bar.stats.handed_bars == every_bar.stats.bars == 360
    assert skipping.stats.handed_bars < every_bar.stats.handed_bars / 4
    # The scenario must exercise the rules, or the comparison proves nothing.
    assert {"stop_loss", "take_profit_tier1", "trailing_stop"} <= set(skipping.tiers)
    assert len(skipping.trips) >= 3
    assert _decisions(skipping) == _decisions(every_bar)


def test_same_inputs_give_byte_identical_json(skipping: BacktestResult) -> None:
    again = run_backtest(exercising_config())
    assert summary_json(again) == summary_json(skipping)


def test_skipping_is_exact_on_minute_bars() -> None:
    """Two days of 1-minute bars, tight rules (3 %/6 % tiers, 2 % trail, 4 % stop)."""
    minutes, seed = 2 * 1440, 3
    config = exercising_config(
        series=[
            random_walk_minutes("BTC/USDT", to_ms(START), minutes, 40000.0, seed, 0.08),
            random_walk_minutes("ETH/USDT", to_ms(START), minutes, 2500.0, seed + 1, 0.08),
        ],
        settings=Settings(
            risk={
                "trailing_arm_after_tiers": None,
                "take_profit_tiers": "3:25,6:25",
                "trailing_stop_pct": 2,
                "stop_loss_pct": 4,
                "max_asset_pct": 100,
                "daily_loss_limit_pct": None,
                "max_drawdown_pct": None,
            },
            strategy={"budget": "1000", "allocation": "BTC/USDT:60,ETH/USDT:40"},
        ),
        strategy_params=StrategyParams(
            budget=Decimal(1000),
            allocation=(("BTC/USDT", Decimal("0.6")), ("ETH/USDT", Decimal("0.4"))),
            tranches=2,
            entry_window_days=0.25,
            cycle_cooldown_days=0.1,
            fomc_blackout_hours=0.0,
            anti_chase_pct=None,
        ),
        job_every=timedelta(hours=3),
    )
    skipping = run_backtest(config)
    assert skipping.stats.handed_bars < skipping.stats.bars / 20
    assert len(skipping.trips) >= 2
    assert _decisions(skipping) == _decisions(run_backtest(replace(config, hand_every_bar=True)))
