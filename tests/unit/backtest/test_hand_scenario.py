"""Twenty daily candles whose every fill is worked out by hand below.

Settings: 1000 USDT, BTC only, one market tranche, no fees, no slippage; hard stop 15 %,
tiers +20 % (sell 25 %) and +50 % (sell 25 %), 10 % trailing stop after the last tier,
break-even stop after tier 1; cycles restart 7 days after one closes. Jobs run daily at
00:00 UTC, at the last known price (the first day: the first open).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from bot.backtest.report import summary_dict
from tests.unit.backtest.kit import START, Bar, flat, hand_run, sells

DAY = timedelta(days=1)

BARS: list[Bar] = [
    (100, 101, 99, 100),  # day 0: the 00:00 job buys 1000 / 100 = 10 BTC at 100
    (100, 110, 98, 108),  # day 1: stop 85, tier 1 at 120: nothing
    (108, 125, 105, 122),  # day 2: high reaches 120 -> tier 1 sells 2.5 at 120; stop -> 100
    (122, 130, 118, 128),  # day 3: nothing (stop 100, tier 2 at 150)
    (128, 155, 126, 150),  # day 4: tier 2 sells 2.5 at 150; at the high 155 the trail arms: 139.5
    (150, 160, 140, 145),  # day 5: low 140 first (> 139.5); high 160 -> trail 144; close 145
    (146, 147, 130, 135),  # day 6: falls through 144 -> trailing stop sells 5 at 144
    *flat(135, 7),  # days 7-13: the day-7 job closes the plan; cool-down until day 14
    (135, 137, 133, 136),  # day 14: new cycle buys 1000 / 135 BTC at 135 (last close)
    (136, 138, 110, 112),  # day 15: stop at 135 * 0.85 = 114.75 sells everything
    *flat(112, 4),  # days 16-19: cool-down, nothing
]


def test_every_exit_of_the_hand_scenario() -> None:
    result = hand_run(BARS)

    second_size = (Decimal(1000) / Decimal(135)).quantize(Decimal("0.00000001"), ROUND_DOWN)
    assert second_size == Decimal("7.40740740")
    assert sells(result) == [
        ("take_profit", 1, Decimal("2.5"), Decimal("120")),
        ("take_profit", 2, Decimal("2.5"), Decimal("150")),
        ("trailing_stop", None, Decimal("5"), Decimal("144")),
        ("stop_loss", None, second_size, Decimal("114.75")),
    ]
    buys = [(f.time, f.amount, f.price) for f in result.fills if f.side.value == "buy"]
    assert [(t.date(), a, p) for t, a, p in buys] == [
        (START.date(), Decimal("10"), Decimal("100")),
        ((START + 14 * DAY).date(), second_size, Decimal("135")),
    ]
    # Exits happen inside their day's candle, in the order the rule B1 walks it.
    exit_days = [(f.time - START).days for f in result.fills if f.side.value == "sell"]
    assert exit_days == [2, 4, 6, 15]

    first_cycle = 2.5 * 120 + 2.5 * 150 + 5 * 144 - 1000  # +395
    second_cycle = float(second_size) * (114.75 - 135)  # about -150
    final = 1000 + first_cycle + second_cycle
    assert result.final_balances == {
        "USDT": Decimal(1000)
        + Decimal("395")
        + (second_size * (Decimal("114.75") - Decimal("135")))
    }
    summary = summary_dict(result)
    assert abs(summary["strategy"]["final_equity"] - final) < 1e-6
    assert abs(summary["strategy"]["total_return"] - (final / 1000 - 1)) < 1e-9
    assert summary["exits"] == {
        "stop_loss": 1,
        "take_profit_tier1": 1,
        "take_profit_tier2": 1,
        "trailing_stop": 1,
    }
    # Buy and hold: 1000 USDT of BTC at the first open (no fee), valued at the last close.
    assert abs(summary["buy_and_hold"]["final_equity"] - 10 * 112) < 1e-6
    assert summary["buy_and_hold"]["max_drawdown"] < summary["strategy"]["max_drawdown"]
    # Held from day 0 to day 6 (the exit at 144 on day 6) and on days 14-15: 9 of 20 days.
    assert abs(summary["strategy"]["exposure"] - 9 / 20) < 1e-9
    assert [trip.exits for trip in result.trips] == [
        ("take_profit1", "take_profit2", "trailing_stop"),
        ("stop_loss",),
    ]
