"""Take-profit ladder: the human parser, validation and the sale planner."""

from __future__ import annotations

import pytest

from risk.take_profit import (
    DEFAULT_TAKE_PROFIT_TIERS,
    TakeProfitTier,
    TierSpecError,
    format_take_profit_tiers,
    parse_take_profit_tiers,
    plan_take_profits,
    validate_tiers,
)
from tests.unit.risk.factories import D


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("20:25,50:25", DEFAULT_TAKE_PROFIT_TIERS, id="playbook_default"),
        pytest.param(" 20 : 25 , 50:25 ", DEFAULT_TAKE_PROFIT_TIERS, id="spaces"),
        pytest.param("20%:25%,50%:25%", DEFAULT_TAKE_PROFIT_TIERS, id="percent_signs"),
        pytest.param(
            "12.5:33.3",
            (TakeProfitTier(D("0.125"), D("0.333")),),
            id="decimals",
        ),
        pytest.param("100:100", (TakeProfitTier(D(1), D(1)),), id="sell_all_at_double"),
        pytest.param("", (), id="empty_means_no_tiers"),
        pytest.param("   ", (), id="blank_means_no_tiers"),
    ],
)
def test_tier_parser_accepts(spec: str, expected: tuple[TakeProfitTier, ...]) -> None:
    assert parse_take_profit_tiers(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("20", "tier 1 '20': expected 'gain%:sell%', e.g. '20:25'", id="no_colon"),
        pytest.param(
            "20:25:5", "tier 1 '20:25:5': expected 'gain%:sell%', e.g. '20:25'", id="two_colons"
        ),
        pytest.param("abc:25", "tier 1 'abc:25': gain 'abc' is not a number", id="gain_nan_text"),
        pytest.param("20:x", "tier 1 '20:x': sell 'x' is not a number", id="sell_not_number"),
        pytest.param("20:", "tier 1 '20:': sell is missing", id="sell_missing"),
        pytest.param(":25", "tier 1 ':25': gain is missing", id="gain_missing"),
        pytest.param("inf:25", "tier 1 'inf:25': gain 'inf' is not a finite number", id="inf"),
        pytest.param("NaN:25", "tier 1 'NaN:25': gain 'NaN' is not a finite number", id="nan"),
        pytest.param("0:25", "tier 1 '0:25': gain must be > 0 %, got 0", id="zero_gain"),
        pytest.param("-5:25", "tier 1 '-5:25': gain must be > 0 %, got -5", id="negative_gain"),
        pytest.param("20:0", "tier 1 '20:0': sell must be > 0 %, got 0", id="zero_sell"),
        pytest.param(
            "20:25,50:-1", "tier 2 '50:-1': sell must be > 0 %, got -1", id="negative_sell"
        ),
        pytest.param(
            "50:25,20:25",
            "tier 2 '20:25': gain 20% must be greater than the previous tier's 50% "
            "(gains strictly increasing)",
            id="gains_decreasing",
        ),
        pytest.param(
            "20:25,20:25",
            "tier 2 '20:25': gain 20% must be greater than the previous tier's 20% "
            "(gains strictly increasing)",
            id="gains_equal",
        ),
        pytest.param(
            "20:60,50:50", "sell percentages sum to 110%, must be <= 100%", id="sum_over_100"
        ),
        pytest.param("20:101", "sell percentages sum to 101%, must be <= 100%", id="one_over_100"),
        pytest.param(
            "20:25,,50:25",
            "tier 2 is empty (stray comma in '20:25,,50:25'?)",
            id="stray_comma",
        ),
        pytest.param("20:25,", "tier 2 is empty (stray comma in '20:25,'?)", id="trailing_comma"),
    ],
)
def test_tier_parser_errors(spec: str, message: str) -> None:
    with pytest.raises(TierSpecError) as caught:
        parse_take_profit_tiers(spec)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        pytest.param(
            (TakeProfitTier(D("0.5"), D("0.2")), TakeProfitTier(D("0.2"), D("0.2"))),
            "tier 2: gain 20% must be greater than the previous tier's 50% "
            "(gains strictly increasing)",
            id="decreasing",
        ),
        pytest.param(
            (TakeProfitTier(D("0.2"), D("0.7")), TakeProfitTier(D("0.5"), D("0.4"))),
            "sell percentages sum to 110%, must be <= 100%",
            id="sum_over_one",
        ),
        pytest.param(
            (TakeProfitTier(D(0), D("0.2")),), "tier 1: gain must be > 0 %, got 0%", id="zero"
        ),
    ],
)
def test_ladder_validation_in_fractions(tiers: tuple[TakeProfitTier, ...], message: str) -> None:
    with pytest.raises(TierSpecError) as caught:
        validate_tiers(tiers)
    assert str(caught.value) == message


def test_format_round_trips_parse() -> None:
    assert format_take_profit_tiers(DEFAULT_TAKE_PROFIT_TIERS) == "20:25,50:25"
    spec = "12.5:10,30:20,100:70"
    assert format_take_profit_tiers(parse_take_profit_tiers(spec)) == spec


def test_planner_fires_all_due_tiers_in_order_and_skips_taken() -> None:
    sales = plan_take_profits(
        DEFAULT_TAKE_PROFIT_TIERS, frozenset(), D(100), D("1"), D("1"), D(150)
    )
    assert [(s.tier, s.amount) for s in sales] == [(1, D("0.25")), (2, D("0.25"))]
    sales = plan_take_profits(
        DEFAULT_TAKE_PROFIT_TIERS, frozenset({1}), D(100), D("0.75"), D("1"), D(150)
    )
    assert [(s.tier, s.amount) for s in sales] == [(2, D("0.25"))]


def test_planner_is_quiet_below_first_tier_and_exactly_at_it_fires() -> None:
    tiers = DEFAULT_TAKE_PROFIT_TIERS
    assert plan_take_profits(tiers, frozenset(), D(100), D(1), D(1), D("119.99")) == []
    assert [s.tier for s in plan_take_profits(tiers, frozenset(), D(100), D(1), D(1), D(120))] == [
        1
    ]


def test_planner_never_sells_more_than_held() -> None:
    # Held 0.3 of an original 1 (sold elsewhere): tier 1 wants 0.25, tier 2 gets the last 0.05.
    sales = plan_take_profits(
        DEFAULT_TAKE_PROFIT_TIERS, frozenset(), D(100), D("0.3"), D(1), D(200)
    )
    assert [(s.tier, s.amount) for s in sales] == [(1, D("0.25")), (2, D("0.05"))]
    assert sum(s.amount for s in sales) == D("0.3")


def test_planner_sweeps_a_dust_remainder_into_the_tier_sale() -> None:
    sales = plan_take_profits(
        DEFAULT_TAKE_PROFIT_TIERS, frozenset(), D(100), D("0.2501"), D(1), D(121), dust=D("0.001")
    )
    assert len(sales) == 1
    assert sales[0].amount == D("0.2501")
    assert sales[0].swept_dust
