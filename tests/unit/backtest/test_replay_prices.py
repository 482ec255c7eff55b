"""Every risk evaluation sees each symbol at the price it had at that instant (issue: stale
prices across symbols), and a gap above the high-water mark ratchets the trailing stop at the
open, before the candle falls (issue: gap opens)."""

from __future__ import annotations

from decimal import Decimal

from bot.backtest.config import BacktestConfig
from bot.backtest.runner import run_backtest
from tests.unit.backtest.kit import (
    DAY,
    easing_signals,
    flat,
    hand_run,
    hand_settings,
    one_shot_params,
    sells,
    series,
)

ETH, BTC = "ETH/USDT", "BTC/USDT"


def test_walking_one_symbol_never_values_another_at_an_older_price() -> None:
    # No tiers: trailing stops armed from entry. ETH's rises to 140 * 0.9 = 126 on day 2 and
    # ETH closes at 128. BTC's day-2 candle (same open time) is walked after ETH's: ETH must be
    # valued at the 128 it closed at, not at day 1's close of 125, which is under the stop.
    eth = [(100.0, 101.0, 99.0, 100.0), (100.0, 130.0, 99.0, 125.0), (125.0, 140.0, 124.0, 128.0)]
    eth += flat(128.0, 3)
    btc = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0), (100.0, 125.0, 99.0, 110.0)]
    btc += flat(110.0, 3)
    settings = hand_settings(take_profit_tiers="")
    params = one_shot_params(
        allocation=((ETH, Decimal("0.5")), (BTC, Decimal("0.5"))), budget=Decimal("1000")
    )
    result = run_backtest(
        BacktestConfig(
            series=[series(eth, ETH), series(btc, BTC)],  # ETH first: walked first at a tie
            settings=settings,
            signals=easing_signals(),
            job_every=DAY,
            strategy_params=params,
        )
    )
    eth_sells = [f for f in result.fills if f.side.value == "sell" and f.symbol == ETH]
    assert eth_sells == [], [(f.kind, f.price, f.time) for f in eth_sells]
    assert any(f.symbol == BTC and f.side.value == "sell" for f in result.fills)


def test_every_exit_is_at_a_price_its_own_candle_traded() -> None:
    eth = [(100.0, 101.0, 99.0, 100.0), (100.0, 130.0, 99.0, 125.0), (125.0, 140.0, 124.0, 128.0)]
    eth += [(128.0, 129.0, 120.0, 121.0), (121.0, 122.0, 100.0, 101.0)]
    btc = [(100.0, 101.0, 99.0, 100.0)] * 2 + [(100.0, 125.0, 99.0, 110.0)]
    btc += [(110.0, 111.0, 90.0, 95.0), (95.0, 96.0, 80.0, 82.0)]
    params = one_shot_params(allocation=((ETH, Decimal("0.5")), (BTC, Decimal("0.5"))))
    result = run_backtest(
        BacktestConfig(
            series=[series(eth, ETH), series(btc, BTC)],
            settings=hand_settings(take_profit_tiers=""),
            signals=easing_signals(),
            job_every=DAY,
            strategy_params=params,
        )
    )
    bars = {ETH: eth, BTC: btc}
    start = series(eth, ETH).ts[0]
    exits = [f for f in result.fills if f.side.value == "sell"]
    assert exits
    for fill in exits:
        day = int((fill.time.timestamp() * 1000 - start) // (DAY.total_seconds() * 1000))
        _, high, low, _ = bars[fill.symbol][day]
        assert Decimal(str(low)) <= fill.price <= Decimal(str(high)), (fill.symbol, day, fill)


def test_a_gap_above_the_high_water_mark_ratchets_the_trailing_stop_before_the_fall() -> None:
    # No tiers: the trailing stop (10 %) is armed from entry at 100. Day 2 opens at 150, far
    # above the high-water mark of 101: the stop is 135 from the open, and the fall to 134
    # must take it, at 135 (not later at the close, not never).
    bars = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0)]
    bars += [(150.0, 150.0, 134.0, 140.0), *flat(140.0, 2)]
    result = hand_run(bars, settings=hand_settings(take_profit_tiers=""))
    assert sells(result) == [("trailing_stop", None, Decimal("10"), Decimal("135"))]
