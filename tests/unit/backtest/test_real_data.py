"""The real BTC/ETH daily candles and Fed series in ../shared/data (skipped when absent)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.backtest.candles import load_candles, to_ms
from bot.backtest.config import BacktestConfig
from bot.backtest.forward_returns import add_months
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.thesis import Verdict
from bot.cli.backtest import thesis_from_files
from bot.config.settings import Settings
from tests.unit.signals.data_paths import shared_file

START = datetime(2019, 6, 1, tzinfo=UTC)
END = datetime(2020, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def real() -> BacktestResult:
    btc, eth = shared_file("BTC_USDT-1d.csv"), shared_file("ETH_USDT-1d.csv")
    fed = shared_file("WALCL.csv").parent
    config = BacktestConfig(
        series=[load_candles(btc), load_candles(eth)],
        settings=Settings(risk={"trailing_arm_after_tiers": None}),  # exercises the hard stop
        signals=build_signals(Settings(), fed, [shared_file("liquidations", "binance_1d_BTC.csv")]),
        start=START,
        end=END,
    )
    return run_backtest(config)


def test_a_year_of_real_daily_candles_trades_and_adds_up(real: BacktestResult) -> None:
    assert real.stats.bars == 2 * 366
    # One run a day, the quiet ones skipped (tests/unit/backtest/test_quiet_runs.py).
    assert real.stats.scheduled_runs + real.stats.skipped_runs == 366
    # The 2019-08-01 pivot to easing starts plans; the March 2020 crash stops them out.
    assert real.journal_kinds["plan_started"] >= 2
    assert real.tiers.get("stop_loss", 0) >= 1
    # The ledger and the equity curve rebuilt from the fills agree on the final equity.
    closes = {s.symbol: Decimal(repr(float(s.close[-1]))) for s in real.series}
    held = sum(
        (
            amount * closes[f"{asset}/USDT"]
            for asset, amount in real.final_balances.items()
            if asset != "USDT"
        ),
        Decimal(0),
    )
    final = real.final_balances.get("USDT", Decimal(0)) + held
    assert abs(float(final) - real.strategy.final) < 1e-6


def test_every_fill_lies_within_its_candle(real: BacktestResult) -> None:
    slippage = Decimal("0.0005")
    bars = {s.symbol: s for s in real.series}
    for fill in real.fills:
        s = bars[fill.symbol]
        i = int(s.ts.searchsorted(to_ms(fill.time), "right")) - 1
        low, high = Decimal(repr(float(s.low[i]))), Decimal(repr(float(s.high[i])))
        if fill.kind == "tranche" and fill.side.value == "buy" and fill.time.microsecond == 0:
            # A market tranche at a job run pays the last close plus slippage.
            low, high = Decimal(repr(float(s.close[i - 1]))), Decimal(repr(float(s.close[i - 1])))
            high *= 1 + slippage
        assert low * (1 - slippage) - Decimal("0.01") <= fill.price <= high, (fill, low, high)


def test_buy_and_hold_is_the_allocation_bought_at_the_first_open(real: BacktestResult) -> None:
    expected = 0.0
    for s, weight in zip(real.series, (600.0, 400.0), strict=True):
        expected += weight / (float(s.open[0]) * 1.001) * float(s.close[-1])
    assert abs(real.buy_hold.final - expected) < 1e-6


def _close_before(path: Path, day: date) -> float:
    cutoff = to_ms(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    with path.open() as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["timestamp"]) < cutoff]
    return float(rows[-1]["close"])


def test_thesis_row_of_the_2019_pivot_matches_the_closes_read_directly() -> None:
    btc, eth = shared_file("BTC_USDT-1d.csv"), shared_file("ETH_USDT-1d.csv")
    report = thesis_from_files([btc, eth], shared_file("WALCL.csv").parent)
    # The classifier decides the exact day of the mid-2019 turn toward easing: take its first.
    row = next(
        o
        for o in report.outcomes
        if o.toward_easing and date(2019, 6, 1) <= o.pivot.date <= date(2019, 9, 30)
    )
    assert row.verdict is Verdict.HELD
    btc_row = row.assets[0]
    assert btc_row.asset == "BTC"
    pivot_price = _close_before(btc, row.pivot.date)
    assert btc_row.pivot_price == pivot_price
    twelve = _close_before(btc, add_months(row.pivot.date, 12)) / pivot_price - 1
    assert btc_row.returns[2] == pytest.approx(twelve)
    assert report.failed == 0 and report.held >= 2
