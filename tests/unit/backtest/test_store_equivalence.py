"""The backtest's in-memory state must decide exactly as the daemon's database would.

`bot.state.memory` replaces SQLite in backtests for speed. These replays run once with it and
once with the real repositories over an in-memory SQLite database (`database=True`), and
compare everything observable: the JSON summary byte for byte, every order record, every
fill and every journal line.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.backtest.candles import load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.report import summary_json
from bot.backtest.runner import run_backtest
from bot.config.settings import Settings
from tests.unit.backtest.kit import exercising_config
from tests.unit.signals.data_paths import shared_file


def _assert_same_run(config: BacktestConfig) -> dict[str, int]:
    memory = run_backtest(config)
    database = run_backtest(replace(config, database=True))
    assert summary_json(memory) == summary_json(database)
    assert memory.orders == database.orders
    assert memory.fills == database.fills
    assert memory.journal_kinds == database.journal_kinds
    assert memory.journal == database.journal
    assert memory.stats.handed_bars == database.stats.handed_bars
    return memory.tiers


def test_memory_state_decides_as_the_database_on_stops_tiers_and_trails() -> None:
    tiers = _assert_same_run(exercising_config())
    # The scenario must exercise the rules, or the comparison proves nothing.
    assert {"stop_loss", "take_profit_tier1", "trailing_stop"} <= set(tiers)


def test_memory_state_decides_as_the_database_on_two_real_years() -> None:
    """2019-06 to 2021-06, daily BTC/ETH, default settings: the 2019 pivot starts plans, the
    March 2020 crash stops them out and trips the kill switch, the 2020-21 rally takes tiers;
    all through both stores."""
    btc, eth = shared_file("BTC_USDT-1d.csv"), shared_file("ETH_USDT-1d.csv")
    # Arm after the last tier: the two years must exercise hard stops as well as trailing.
    settings = Settings(_env_file=None, risk={"trailing_arm_after_tiers": None})  # type: ignore[call-arg]
    config = BacktestConfig(
        series=[load_candles(btc), load_candles(eth)],
        settings=settings,
        signals=build_signals(
            settings,
            shared_file("WALCL.csv").parent,
            [shared_file("liquidations", "binance_1d_BTC.csv")],
        ),
        start=datetime(2019, 6, 1, tzinfo=UTC),
        end=datetime(2021, 6, 1, tzinfo=UTC),
    )
    tiers = _assert_same_run(config)
    assert {"stop_loss", "take_profit_tier1"} <= set(tiers)


@pytest.mark.parametrize("database", [False, True], ids=["memory", "sqlite"])
def test_same_inputs_give_byte_identical_json_on_either_store(database: bool) -> None:
    config = exercising_config(database=database)
    assert summary_json(run_backtest(config)) == summary_json(run_backtest(config))
