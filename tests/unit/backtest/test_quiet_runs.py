"""Skipping quiet scheduled runs must change no decision.

The replay skips a scheduled job run when the run before it changed nothing and neither the
entry job (its next wake-up), the signals, the bars nor the risk rules can act before the
next one (`bot.backtest.quiet_runs`). These replays of real BTC+ETH candles run once that way
and once with every scheduled run, and every fill, order record and journal line (with its
time) must be identical. The year 2019-06 -> 2020-06 holds a drawdown kill switch that trips
and re-arms, anti-chase holds, limit reprices, tiers, trailing stops and stop-outs. Skipped
when the shared data is absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.backtest.candles import load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.quiet_runs import RiskProbe
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.config.settings import Settings
from bot.state.memory import MemoryOrderRepo, MemoryStore
from tests.unit.signals.data_paths import shared_file

START = datetime(2019, 6, 1, tzinfo=UTC)
END = datetime(2020, 6, 1, tzinfo=UTC)


def _config(timeframe: str, settings: Settings, liquidations: bool = False) -> BacktestConfig:
    series = [load_candles(shared_file(f"{a}_USDT-{timeframe}.csv")) for a in ("BTC", "ETH")]
    flushes = (
        [shared_file("liquidations", f"binance_{timeframe}_{a}.csv") for a in ("BTC", "ETH")]
        if liquidations
        else []
    )
    signals = build_signals(settings, shared_file("WALCL.csv").parent, flushes)
    return BacktestConfig(series=series, settings=settings, signals=signals, start=START, end=END)


def _assert_same_decisions(config: BacktestConfig) -> BacktestResult:
    skipping = run_backtest(config)
    every_run = run_backtest(config, skip_quiet_runs=False)
    assert every_run.stats.skipped_runs == 0
    assert skipping.fills == every_run.fills
    assert skipping.orders == every_run.orders
    assert skipping.journal == every_run.journal
    assert skipping.final_balances == every_run.final_balances
    assert skipping.stats.handed_bars == every_run.stats.handed_bars
    runs = skipping.stats.scheduled_runs + skipping.stats.skipped_runs
    assert runs == every_run.stats.scheduled_runs
    # Skipping must actually happen, or the comparison proves nothing.
    assert skipping.stats.skipped_runs > runs / 8
    assert every_run.stats.quiet_catch_ups == 0
    return skipping


@pytest.mark.parametrize("trailing", [None, 15.0], ids=["defaults", "trailing-15"])
def test_skipping_quiet_runs_changes_no_decision_on_daily_candles(trailing: float | None) -> None:
    # The defaults, and the earlier 15 % trailing stop under which this year also holds a
    # drawdown kill switch that trips and re-arms.
    settings = Settings() if trailing is None else Settings(risk={"trailing_stop_pct": trailing})
    result = _assert_same_decisions(_config("1d", settings))
    # New highs caught up inside stretches of skipped runs (the trailing stop's high-water
    # mark and the equity peak), compared above with a replay making every run.
    assert result.stats.quiet_catch_ups > 10
    kinds = set(result.journal_kinds)
    assert {"take_profit", "trailing_stop", "tranche_repriced"} <= kinds
    if trailing is not None:
        assert {"entries_blocked", "kill_switch_rearmed", "tranche_held"} <= kinds


@pytest.mark.parametrize(
    ("timeframe", "values", "liquidations"),
    [
        (
            "1d",
            {
                "risk": {"take_profit_tiers": "10:30,30:30", "stop_loss_pct": 10},
                "strategy": {
                    "order_type": "market",
                    "tranches": 2,
                    "anti_chase_pct": 5,
                    "anti_chase_action": "skip",
                    "cycle_cooldown_days": 0,
                },
            },
            False,
        ),
        (
            "4h",
            {
                "strategy": {
                    "tranches": 8,
                    "entry_window_days": 10,
                    "start_regimes": "easing,neutral,tightening",
                    "pause_regimes": "",
                    "fomc_blackout_hours": 72,
                    "reprice_after_hours": 6,
                    "flush_pull_forward": 3,
                }
            },
            True,
        ),
        (
            # A tight drawdown switch, no trailing stop, a far hard stop: the kill switch trips,
            # holds (its drawdown text changing day by day) and re-arms on scheduled runs with
            # no bar handed over, so only the risk probe keeps those runs.
            "1d",
            {
                "risk": {
                    "max_drawdown_pct": 8,
                    "stop_loss_pct": 40,
                    "daily_loss_limit_pct": None,
                    "kill_switch_cooldown_days": 3,
                    "trailing_stop_pct": None,
                    "take_profit_tiers": "60:50",
                }
            },
            False,
        ),
    ],
    ids=["market-tight-tiers", "4h-flushes-fomc", "drawdown-switch"],
)
def test_skipping_quiet_runs_changes_no_decision_under_other_rules(
    timeframe: str, values: dict[str, Any], liquidations: bool
) -> None:
    _assert_same_decisions(_config(timeframe, Settings(**values), liquidations))


@pytest.mark.parametrize("trailing", [None, 15.0], ids=["defaults", "trailing-15"])
def test_the_probe_writes_what_the_risk_job_writes_at_a_new_high_in_a_stretch(
    monkeypatch: pytest.MonkeyPatch, trailing: float | None
) -> None:
    """At a new high inside a stretch of skipped runs the probe stands in for the risk job
    when all the job would do is raise the marks (`RiskProbe.catch_up`). Every store write of
    the replay (runtime keys, equity points, position marks, with their times), in order,
    must be the same as when the real job runs at each of those catch-ups."""
    writes: list[tuple[object, ...]] = []
    set_value, record_equity, save_marks = (
        MemoryStore.set_value,
        MemoryStore.record_equity,
        MemoryOrderRepo.save_marks,
    )

    def spy_value(store: MemoryStore, key: str, value: str, at: datetime) -> None:
        writes.append(("value", key, value, at))
        set_value(store, key, value, at)

    def spy_equity(store: MemoryStore, now: datetime, equity: Any, cash: Any = None) -> None:
        writes.append(("equity", now, equity, cash))
        record_equity(store, now, equity, cash)

    def spy_marks(repo: MemoryOrderRepo, marks: Any, now: datetime) -> None:
        writes.append(("marks", dict(marks), now))
        save_marks(repo, marks, now)

    monkeypatch.setattr(MemoryStore, "set_value", spy_value)
    monkeypatch.setattr(MemoryStore, "record_equity", spy_equity)
    monkeypatch.setattr(MemoryOrderRepo, "save_marks", spy_marks)
    # The defaults, and the 15 % trailing stop whose year also trips and re-arms the drawdown
    # kill switch (catch-ups beside block reasons).
    settings = Settings() if trailing is None else Settings(risk={"trailing_stop_pct": trailing})
    config = _config("1d", settings)
    probing = run_backtest(config)
    probe_writes = writes[:]
    writes.clear()
    monkeypatch.setattr(RiskProbe, "catch_up", lambda probe, world, now: None)
    jobs = run_backtest(config)
    assert probing.stats.probe_catch_ups > 10  # else this compares nothing
    assert jobs.stats.probe_catch_ups == 0
    assert probing.stats.catch_up_ticks == jobs.stats.catch_up_ticks
    assert probe_writes == writes
    assert probing.journal == jobs.journal
