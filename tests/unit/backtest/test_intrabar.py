"""Rule B1 (bot/backtest/replay.py): inside one candle the path is OPEN -> LOW -> HIGH -> CLOSE.

A position of 10 BTC bought at 100 (no fees, no slippage): hard stop 85 (15 %), tier 1 at 120
(+20 %, sell 2.5), tier 2 at 150 (+50 %, sell 2.5), then a 10 % trailing stop; after tier 1
the stop rises to break-even (100).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.backtest.kit import Bar, hand_run, sells

ENTRY: Bar = (100, 101, 99, 100)  # the first job buys 10 BTC at this open


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        pytest.param(
            (100, 125, 80, 110),
            [("stop_loss", None, D("10"), D("85"))],
            id="stop_and_tier_in_one_candle_stop_first",
        ),
        pytest.param(
            (121, 125, 80, 90),
            [("take_profit", 1, D("2.5"), D("121")), ("stop_loss", None, D("7.5"), D("100"))],
            id="opened_past_tier_takes_tier_at_open_then_break_even_stop",
        ),
        pytest.param(
            (80, 90, 70, 75),
            [("stop_loss", None, D("10"), D("80"))],
            id="gap_down_through_stop_sells_at_the_open",
        ),
        pytest.param(
            (110, 125, 105, 122),
            [("take_profit", 1, D("2.5"), D("120"))],
            id="tier_alone_fills_at_its_own_price",
        ),
        pytest.param(
            (160, 165, 158, 162),
            [("take_profit", 1, D("2.5"), D("160")), ("take_profit", 2, D("2.5"), D("160"))],
            id="gap_over_two_tiers_takes_both_at_the_open",
        ),
        pytest.param(
            (100, 155, 99, 135),
            [
                ("take_profit", 1, D("2.5"), D("120")),
                ("take_profit", 2, D("2.5"), D("150")),
                ("trailing_stop", None, D("5"), D("139.5")),
            ],
            id="both_tiers_on_the_way_up_then_trailing_stop_from_the_high_on_the_way_down",
        ),
    ],
)
def test_intra_candle_order_of_events(
    bar: Bar, expected: list[tuple[str, int | None, Decimal, Decimal]]
) -> None:
    result = hand_run([ENTRY, bar])
    assert sells(result) == expected


def test_low_before_high_spares_a_trailing_stop_the_bar_later_exceeds() -> None:
    # After both tiers the trailing stop sits 10 % under the high-water mark (155 -> 139.5).
    # The next bar dips to 140 FIRST (above 139.5), then makes a new high of 160 (stop 144)
    # and closes at 145: no exit. Walked high-first it would have sold at 144.
    bars: list[Bar] = [ENTRY, (100, 155, 99, 150), (150, 160, 140, 145)]
    result = hand_run(bars)
    assert [kind for kind, *_ in sells(result)] == ["take_profit", "take_profit"]
    next_day: list[Bar] = [*bars, (146, 147, 130, 135)]
    assert sells(hand_run(next_day))[-1] == ("trailing_stop", None, D("5"), D("144"))
