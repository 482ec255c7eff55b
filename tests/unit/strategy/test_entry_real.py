"""Entry decisions on the real daily candles and Fed data in ../shared/data (skipped when
absent): BTC, SOL and AVAX from 2022-03-16 to the end of 2024.

From 2022-03-16 (the day before the hike that began tightening) a BTC plan starts whose first
tranche waits out the FOMC blackout, then tightening pauses it for 2.5 years. At the
2024-09-18 cut the regime eases: that 918-day-old plan used to release the alts on the pivot
day (its age was far past the 30-day lag). Now the lag counts from BTC's first tranche placed
in the new episode. Over the same run, tiers sell and no tranche buys after one in its cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.backtest.candles import load_candles
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.config.settings import Settings
from tests.unit.signals.data_paths import shared_file

OLD_PLAN = "BTCUSDT-c1-20220316T000000"


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    settings = Settings(strategy={"allocation": "BTC/USDT:70,SOL/USDT:15,AVAX/USDT:15"})
    series = [load_candles(shared_file(f"{c}_USDT-1d.csv")) for c in ("BTC", "SOL", "AVAX")]
    config = BacktestConfig(
        series=series,
        settings=settings,
        signals=build_signals(settings, shared_file("WALCL.csv").parent),
        start=datetime(2022, 3, 16, tzinfo=UTC),
        end=datetime(2024, 12, 31, tzinfo=UTC),
    )
    return run_backtest(config)


def test_alts_do_not_start_on_the_pivot_day_from_a_plan_of_the_last_episode(
    result: BacktestResult,
) -> None:
    starts = [e for e in result.journal if e.kind == "plan_started"]
    assert starts[0].symbol == "BTC/USDT" and OLD_PLAN in str(starts[0].data)
    alts = [e for e in starts if e.symbol != "BTC/USDT"]
    assert alts, "the alts never started"
    first = alts[0]
    # BTC's first tranche placed in the new episode is the reference the lag counts from.
    btc_buys = [
        o
        for o in result.orders
        if o.symbol == "BTC/USDT" and o.kind == "tranche" and o.created_at.year == 2024
    ]
    reference = btc_buys[0]
    assert reference.created_at.date() >= datetime(2024, 9, 18, tzinfo=UTC).date()
    waited = first.at - reference.created_at
    btc = next(s for s in result.series if s.symbol == "BTC/USDT")
    day = int(btc.ts.searchsorted(int(first.at.timestamp() * 1000))) - 1
    close_before = Decimal(repr(float(btc.close[day])))
    price = reference.average or reference.price
    assert price is not None
    assert waited >= timedelta(days=30) or close_before >= price * Decimal("1.1"), (
        first.at,
        reference.created_at,
        close_before,
        price,
    )
    assert f"alts follow BTC/USDT plan {OLD_PLAN}" in first.message
    assert "in an earlier episode, first tranche of this episode placed" in first.message
    waits = [
        e.message
        for e in result.journal
        if e.kind == "plan_waiting" and e.at == reference.created_at
    ]
    assert waits and all("measured from BTC/USDT plan" in w for w in waits)


def test_no_tranche_buys_after_a_tier_sale_in_the_same_cycle(result: BacktestResult) -> None:
    """Counted from the fills alone: a cycle runs from a buy out of flat to a sale to zero."""
    held: dict[str, Decimal] = {}
    tier_sold: dict[str, bool] = {}
    after_tier = []
    for fill in sorted(result.fills, key=lambda f: f.time):
        size = held.get(fill.symbol, Decimal(0))
        if fill.side.value == "buy":
            if size <= 0:
                tier_sold[fill.symbol] = False
            if tier_sold.get(fill.symbol):
                after_tier.append(fill)
            held[fill.symbol] = size + fill.amount
        else:
            held[fill.symbol] = max(size - fill.amount, Decimal(0))
            tier_sold[fill.symbol] = tier_sold.get(fill.symbol, False) or fill.tier is not None
    assert sum(1 for f in result.fills if f.tier is not None) >= 3  # tiers did sell
    assert [e for e in result.journal if e.kind == "tranches_cancelled"]
    assert after_tier == []
