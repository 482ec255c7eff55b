"""Numbers for people (shared by the terminal and the page) and the chart's edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.ops import human
from bot.ops.web.chart_svg import Level, Marker, PriceChart, price_chart_svg

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        pytest.param("2051.135", True, "+2,051.14", id="gain_half_up"),
        pytest.param("-23.18", True, "-23.18", id="loss"),
        pytest.param("-0.001", True, "0.00", id="no_negative_zero"),
        pytest.param("0", True, "0.00", id="zero_unsigned"),
        pytest.param(None, False, "-", id="unknown"),
        pytest.param("NaN", False, "-", id="not_a_number"),
    ],
)
def test_money(value: str | None, signed: bool, text: str) -> None:
    assert human.money(value, signed=signed) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("84250", "84,250.00", id="big"),
        pytest.param("2.45123", "2.4512", id="unit"),
        pytest.param("0.0000452123", "0.00004521", id="tiny_four_significant"),
    ],
)
def test_price(value: str, text: str) -> None:
    assert human.price(value) == text


def test_amount_pct_age_held() -> None:
    assert human.amount("0.01250000") == "0.0125" and human.amount("3") == "3"
    assert human.pct("34.765") == "+34.77 %" and human.pct("-1.4") == "-1.40 %"
    assert [human.age(s) for s in (5, 600, 3 * 3600, 12 * 86400)] == [
        "5 s",
        "10 min",
        "3 h",
        "12 d",
    ]
    assert human.held(3 * 86400) == "3 d" and human.held(6.5 * 3600) == "6 h 30 min"


def test_a_chart_without_prices_says_so() -> None:
    assert "no price known yet" in price_chart_svg(PriceChart("BTC/USDT", []))


def test_one_known_price_still_draws_its_marker() -> None:
    chart = PriceChart(
        "BTC/USDT",
        [(T0, Decimal(100))],
        [Marker(T0, Decimal(100), "entry", "buy", "1")],
        [Level(T0, T0 + timedelta(hours=1), Decimal(90), "stop", "hard stop")],
    )
    svg = price_chart_svg(chart)
    assert 'class="mk-entry"' in svg and 'class="lv-stop"' in svg
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


def test_marker_text_is_escaped() -> None:
    chart = PriceChart("X/Y", [(T0, Decimal(1))], [Marker(T0, Decimal(1), "exit", "<b>", "&")])
    svg = price_chart_svg(chart)
    assert "<b>" not in svg and "&lt;b&gt;" in svg
