"""Exposure limits, equity watermarks, kill switch and the buy gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from risk.limits import (
    EquityMarks,
    allowed_entry,
    exposure,
    kill_switch_reasons,
    rearm_after_kill,
    roll_equity_marks,
)
from risk.params import RiskParams
from risk.position import Position, position_from_fills
from tests.unit.risk.factories import SYMBOL, D, account, buy

ETH = "ETH/USDT"
SOL = "SOL/USDT"


def btc(amount: str = "10", price: str = "100") -> Position:
    return position_from_fills(SYMBOL, [buy("b1", amount, price)])


def test_roll_equity_marks_opens_each_utc_day_and_keeps_the_peak() -> None:
    day1 = datetime(2025, 3, 1, 23, 59, tzinfo=UTC)
    marks = roll_equity_marks(None, D(1000), day1)
    assert marks == EquityMarks(day1.date(), D(1000), D(1000))
    marks = roll_equity_marks(marks, D(1200), day1)
    assert marks == EquityMarks(day1.date(), D(1000), D(1200))
    day2 = day1 + timedelta(minutes=2)
    marks = roll_equity_marks(marks, D(1100), day2)
    assert marks == EquityMarks(day2.date(), D(1100), D(1200))
    assert marks.account(D(1050), D(300)) == account(
        "1050", peak="1200", day_start="1100", cash="300"
    )


def test_roll_equity_marks_uses_the_utc_day_of_a_non_utc_time() -> None:
    local = datetime(2025, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # 22:00 UTC, Mar 1
    assert roll_equity_marks(None, D(1), local).day == datetime(2025, 3, 1).date()


@pytest.mark.parametrize(
    ("equity", "peak", "day_start", "expected"),
    [
        pytest.param("10000", "10000", "10000", [], id="flat"),
        pytest.param("9501", "10000", "10000", [], id="just_under_daily_limit"),
        pytest.param(
            "9500",
            "10000",
            "10000",
            ["daily loss 5% from day-start equity 10000 >= limit 5%"],
            id="daily_limit_hit",
        ),
        pytest.param(
            "8000",
            "10000",
            "8100",
            ["drawdown 20% from equity peak 10000 >= max 20%"],
            id="drawdown_hit_daily_ok",
        ),
        pytest.param(
            "7000",
            "10000",
            "10000",
            [
                "daily loss 30% from day-start equity 10000 >= limit 5%",
                "drawdown 30% from equity peak 10000 >= max 20%",
            ],
            id="both",
        ),
    ],
)
def test_kill_switch_reasons(equity: str, peak: str, day_start: str, expected: list[str]) -> None:
    params = RiskParams(daily_loss_limit=D("0.05"), max_drawdown=D("0.2"))
    assert kill_switch_reasons(account(equity, peak, day_start), params) == expected


def test_kill_switch_limits_can_be_disabled() -> None:
    params = RiskParams(daily_loss_limit=None, max_drawdown=None)
    assert kill_switch_reasons(account("1", peak="10000", day_start="10000"), params) == []


def test_exposure_values_at_price_or_average_entry() -> None:
    eth = position_from_fills(ETH, [buy("e1", "2", "3000")])
    held = exposure({SYMBOL: btc(), ETH: eth}, {SYMBOL: D(110)}, RiskParams())
    assert held.by_symbol == {SYMBOL: D(1100), ETH: D(6000)}
    assert held.total == D(7100)


def test_entry_within_limits_is_allowed_in_full() -> None:
    allowance = allowed_entry(SYMBOL, D(500), {}, {}, account(), RiskParams())
    assert allowance.allowed == D(500)
    assert not allowance.blocked and not allowance.clipped
    assert allowance.reason == "within limits"


def test_entry_clipped_to_asset_room() -> None:
    params = RiskParams(max_asset_fraction=D("0.2"))
    allowance = allowed_entry(
        SYMBOL, D(2000), {SYMBOL: btc("10", "100")}, {SYMBOL: D(150)}, account(), params
    )
    # room = 20 % of 10000 - 10 * 150 = 500
    assert allowance.allowed == D(500)
    assert allowance.clipped
    assert allowance.reasons == (
        "clipped: BTC/USDT room 500 to max 20% of equity 10000 (holds 1500)",
    )


def test_entry_clipped_to_total_room_counting_pending_orders() -> None:
    params = RiskParams(max_asset_fraction=D("1"), max_total_fraction=D("0.5"))
    eth = position_from_fills(ETH, [buy("e1", "1", "3000")])
    allowance = allowed_entry(
        SYMBOL, D(3000), {ETH: eth}, {ETH: D(3000)}, account(cash="9000"), params, {SOL: D(1500)}
    )
    assert allowance.allowed == D(500)
    assert allowance.reason == (
        "clipped: total room 500 to max 50% of equity 10000 (exposure 4500)"
    )


def test_entry_clipped_to_cash() -> None:
    allowance = allowed_entry(SYMBOL, D(900), {}, {}, account(cash="250"), RiskParams())
    assert allowance.allowed == D(250)
    assert allowance.reason == "clipped: free cash 250"


def test_entry_blocked_when_asset_is_full() -> None:
    params = RiskParams(max_asset_fraction=D("0.1"))
    allowance = allowed_entry(SYMBOL, D(100), {SYMBOL: btc()}, {SYMBOL: D(100)}, account(), params)
    assert allowance.blocked
    assert allowance.reasons[0] == "blocked: no room left"


def test_new_symbol_blocked_at_max_open_positions_but_adds_allowed() -> None:
    params = RiskParams(max_open_positions=1)
    positions = {SYMBOL: btc("1", "100")}
    prices = {SYMBOL: D(100)}
    new = allowed_entry(ETH, D(100), positions, prices, account(), params)
    assert new.blocked
    assert new.reasons == ("1 open positions >= max 1: no new symbol",)
    add = allowed_entry(SYMBOL, D(100), positions, prices, account(), params)
    assert add.allowed == D(100)


def test_daily_loss_blocks_entries() -> None:
    allowance = allowed_entry(
        SYMBOL, D(100), {}, {}, account("9000", day_start="10000"), RiskParams()
    )
    assert allowance.blocked
    assert allowance.reasons == (
        "kill switch: daily loss 10% from day-start equity 10000 >= limit 5%",
    )


def test_risk_off_blocks_entries() -> None:
    allowance = allowed_entry(SYMBOL, D(100), {}, {}, account(), RiskParams(risk_off=True))
    assert allowance.blocked
    assert allowance.reasons == ("risk-off flag set: new entries blocked, exits keep running",)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        pytest.param(D(0), "nothing requested", id="zero"),
        pytest.param(D(-5), "nothing requested", id="negative"),
    ],
)
def test_empty_request_allows_nothing(amount: Decimal, expected: str) -> None:
    allowance = allowed_entry(SYMBOL, amount, {}, {}, account(), RiskParams())
    assert allowance.blocked and allowance.reason == expected


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"trailing_stop_pct": D(1)}, "trailing_stop_pct", id="trailing_100pct"),
        pytest.param({"stop_loss_pct": D(0)}, "stop_loss_pct", id="stop_zero"),
        pytest.param({"max_asset_fraction": D("1.5")}, "max_asset_fraction", id="asset_over_1"),
        pytest.param({"daily_loss_limit": 0.05}, "must be Decimal", id="float_fraction"),
        pytest.param({"max_open_positions": -1}, "max_open_positions", id="negative_count"),
        pytest.param({"dust_amount": D(-1)}, "dust", id="negative_dust"),
        pytest.param({"trailing_activation_gain": D(-1)}, "activation", id="negative_activation"),
    ],
)
def test_invalid_params_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        RiskParams(**kwargs)  # type: ignore[arg-type]


def test_params_are_hashable_and_dust_overrides_apply() -> None:
    params = RiskParams(dust_amount=D("0.1"), dust_by_symbol={ETH: D("0.01")})
    assert params.dust_for(ETH) == D("0.01")
    assert params.dust_for(SYMBOL) == D("0.1")
    hash(params)


def test_rearm_after_kill_needs_flat_and_cool_down() -> None:
    marks = EquityMarks(date(2025, 12, 10), Decimal(9000), Decimal(12000))
    tripped = datetime(2025, 12, 1, tzinfo=UTC)
    week = timedelta(days=7)
    later = tripped + timedelta(days=8)
    assert rearm_after_kill(marks, Decimal(8000), tripped, later, False, week) is None
    assert rearm_after_kill(marks, Decimal(8000), tripped, tripped + week / 2, True, week) is None
    assert rearm_after_kill(marks, Decimal(8000), tripped, later, True, None) is None
    rearmed = rearm_after_kill(marks, Decimal(8000), tripped, later, True, week)
    assert rearmed == EquityMarks(date(2025, 12, 10), Decimal(9000), Decimal(8000))
