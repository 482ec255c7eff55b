"""Positions rebuilt from fills: averages, fees, PnL, cycles, tiers, duplicates."""

from __future__ import annotations

from datetime import datetime

import pytest

from risk.position import (
    FillRejected,
    FillSide,
    Position,
    PositionFill,
    apply_fill,
    position_from_fills,
)
from tests.unit.risk.factories import SYMBOL, T0, D, buy, sell


def test_staggered_buys_average_entry_price_is_volume_weighted() -> None:
    position = position_from_fills(
        SYMBOL,
        [buy("b1", "0.02", "100", fee="0.2"), buy("b2", "0.03", "90", fee="0.27", minutes=5)],
    )
    # (0.02*100 + 0.03*90) / 0.05 = 4.7 / 0.05 = 94
    assert position.avg_entry_price == D("94")
    assert position.size == D("0.05")
    assert position.cycle_bought == D("0.05")
    assert position.fees == D("0.47")
    assert position.cycle_id == "b1"
    assert position.opened_at == T0
    assert position.is_open()


def test_sell_realizes_pnl_against_average_and_keeps_average() -> None:
    position = position_from_fills(
        SYMBOL,
        [
            buy("b1", "0.04", "100", fee="0.4"),
            sell("s1", "0.01", "120", fee="0.12", minutes=1, tier=1),
        ],
    )
    assert position.size == D("0.03")
    assert position.avg_entry_price == D("100")
    assert position.realized_pnl == D("0.2")  # (120 - 100) * 0.01
    assert position.fees == D("0.52")
    assert position.unrealized_pnl(D("110")) == D("0.3")
    assert position.net_pnl(D("110")) == D("0.2") + D("0.3") - D("0.52")
    assert position.tiers_taken == frozenset({1})
    assert position.cycle_sold == D("0.01")


def test_gain_is_price_over_average_entry() -> None:
    position = position_from_fills(SYMBOL, [buy("b1", "1", "100")])
    assert position.gain(D("120.4")) == D("0.204")
    assert Position(SYMBOL).gain(D("5")) == 0


def test_break_even_spreads_cycle_fees_over_what_is_held() -> None:
    position = position_from_fills(
        SYMBOL, [buy("b1", "2", "100", fee="1"), sell("s1", "1", "120", fee="1", tier=1)]
    )
    assert position.break_even_price == D("102")  # 100 + (1 + 1) / 1


def test_duplicate_fill_ignored() -> None:
    first = buy("b1", "0.05", "100", fee="0.05")
    position = position_from_fills(SYMBOL, [first, first, buy("b1", "0.05", "100")])
    assert position.size == D("0.05")
    assert position.fees == D("0.05")
    again = apply_fill(position, first)
    assert again is position
    tier_sale = sell("s1", "0.0125", "120", tier=1)
    sold = apply_fill(apply_fill(position, tier_sale), tier_sale)
    assert sold.size == D("0.0375")


def test_cycle_ends_at_zero_and_next_buy_starts_fresh() -> None:
    position = position_from_fills(
        SYMBOL,
        [
            buy("b1", "1", "100", fee="1"),
            sell("s1", "0.25", "120", tier=1, minutes=1),
            sell("s2", "0.75", "90", minutes=2),
            buy("b2", "2", "80", fee="0.5", minutes=3),
        ],
    )
    assert position.cycle_id == "b2"
    assert position.cycle_bought == D("2")
    assert position.tiers_taken == frozenset()
    assert position.fees == D("0.5")
    assert position.realized_pnl == 0
    assert position.avg_entry_price == D("80")
    assert position.peak_fill_price == D("80")


def test_sell_leaving_dust_closes_cycle_and_dust_carries_into_next() -> None:
    dust = D("0.001")
    fills = [buy("b1", "1", "100"), sell("s1", "0.9995", "110", minutes=1)]
    closed = position_from_fills(SYMBOL, fills, dust)
    assert closed.size == D("0.0005")
    assert not closed.is_open(dust)
    reopened = apply_fill(closed, buy("b2", "1", "50", minutes=2), dust)
    assert reopened.cycle_id == "b2"
    assert reopened.cycle_bought == D("1")
    assert reopened.size == D("1.0005")
    assert reopened.avg_entry_price == (D("0.0005") * 100 + 50) / D("1.0005")


def test_tier_marks_taken_and_persists_across_added_entries() -> None:
    position = position_from_fills(
        SYMBOL,
        [
            buy("b1", "1", "100"),
            sell("s1", "0.25", "120", tier=1, minutes=1),
            buy("b2", "1", "130", minutes=2),
        ],
    )
    assert position.tiers_taken == frozenset({1})
    assert position.cycle_bought == D("2")
    assert position.avg_entry_price == (D("0.75") * 100 + 130) / D("1.75")


def test_fills_are_replayed_in_time_order() -> None:
    fills = [sell("s1", "0.5", "120", minutes=5, tier=1), buy("b1", "1", "100", minutes=0)]
    assert position_from_fills(SYMBOL, fills).size == D("0.5")


def test_sell_more_than_held_is_rejected() -> None:
    position = position_from_fills(SYMBOL, [buy("b1", "1", "100")])
    with pytest.raises(FillRejected, match="exceeds the 1 held"):
        apply_fill(position, sell("s1", "1.5", "100"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"amount": 1.0}, TypeError, "amount must be Decimal", id="float_amount"),
        pytest.param({"amount": D(0)}, ValueError, "amount must be > 0", id="zero_amount"),
        pytest.param({"price": D(-1)}, ValueError, "price must be > 0", id="negative_price"),
        pytest.param({"fee": D(-1)}, ValueError, "fee must be >= 0", id="negative_fee"),
        pytest.param({"tier": 1}, ValueError, "only sell fills", id="tier_on_buy"),
        pytest.param(
            {"timestamp": datetime(2025, 1, 1)}, ValueError, "timezone-aware", id="naive_time"
        ),
        pytest.param({"fill_id": ""}, ValueError, "must not be empty", id="empty_id"),
    ],
)
def test_invalid_fill_is_refused(kwargs: dict[str, object], error: type, match: str) -> None:
    fields: dict[str, object] = {
        "fill_id": "f1",
        "side": FillSide.BUY,
        "amount": D(1),
        "price": D(100),
        "fee": D(0),
        "timestamp": T0,
    }
    fields.update(kwargs)
    with pytest.raises(error, match=match):
        PositionFill(**fields)  # type: ignore[arg-type]


def test_side_given_as_string_is_converted() -> None:
    fill = PositionFill("f1", "sell", D(1), D(1), D(0), T0)  # type: ignore[arg-type]
    assert fill.side is FillSide.SELL
