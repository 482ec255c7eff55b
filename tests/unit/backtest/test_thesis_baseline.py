"""The thesis claims against every day: hand-built closes whose percentiles, base rates and
verdicts are known by construction."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from rich.console import Console

from bot.backtest.forward_returns import HORIZON_MONTHS, DailyCloses, add_months
from bot.backtest.thesis import asset_outcome, episode_repeats, report_as_dict, thesis_report
from bot.backtest.thesis_baseline import (
    CLAIMS,
    WINDOW_CLAIM,
    Claim,
    baseline,
    binomial_tail,
    claim_baseline,
    every_day_values,
    percentile,
)
from bot.backtest.thesis_table import print_thesis
from bot.signals.regime_types import Pivot, Regime

UP_3M = next(c for c in CLAIMS if c.months == 3)


def daily(first: date, last: date, price: Callable[[int, date], float]) -> DailyCloses:
    """One close a day from `first` to `last`; `price(i, day)` gives the close."""
    rows: list[tuple[date, float]] = []
    day, i = first, 0
    while day <= last:
        rows.append((day, float(price(i, day))))
        day, i = day + timedelta(days=1), i + 1
    return DailyCloses.merge([rows])


def easing(day: date) -> Pivot:
    return Pivot(day, Regime.TIGHTENING, Regime.EASING, ("rate holding -> cutting",))


def cycles(days: list[date]) -> list[Pivot]:
    """An easing pivot on each day, each followed by a move back to tightening: separate
    episodes, each counted."""
    out = []
    for day in days:
        out += [easing(day), Pivot(day + timedelta(days=30), Regime.EASING, Regime.TIGHTENING, ())]
    return out


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        pytest.param([1.0, 2.0, 3.0, 4.0], 2.5, 50.0, id="between_values"),
        pytest.param([1.0, 2.0, 2.0, 3.0], 2.0, 50.0, id="ties_count_half"),
        pytest.param([1.0, 2.0], 0.5, 0.0, id="below_all"),
        pytest.param([1.0, 2.0], 9.0, 100.0, id="above_all"),
        pytest.param([1.0, 1.0, 1.0], 1.0, 50.0, id="all_equal_is_typical"),
    ],
)
def test_percentile_counts_lower_days_and_half_the_ties(
    values: list[float], value: float, expected: float
) -> None:
    assert percentile(values, value) == pytest.approx(expected)


def test_binomial_tail() -> None:
    assert binomial_tail(5, 0.5, 5) == pytest.approx(1 / 32)
    assert binomial_tail(4, 0.5, 4) == pytest.approx(1 / 16)
    assert binomial_tail(2, 0.9, 2) == pytest.approx(0.81)
    assert binomial_tail(3, 0.3, 0) == pytest.approx(1.0)


def test_one_step_up_gives_the_percentile_and_base_rate_counted_by_hand() -> None:
    # Flat at 100 through 2021-03-31, then 200 to the end of 2021. A 3-month return is +100 %
    # exactly for the closes of 2021-01-01 .. 2021-03-31 (90 days) and 0 otherwise; closes from
    # 2020-01-01 to 2021-09-30 (366 + 273 = 639 days) have a 3-month price in the data.
    step = date(2021, 4, 1)
    closes = daily(date(2020, 1, 1), date(2021, 12, 31), lambda i, d: 200 if d >= step else 100)
    row = claim_baseline(UP_3M, "BTC", closes, [date(2021, 2, 1), date(2020, 6, 1)])
    assert row.days == 639
    assert row.base_rate == pytest.approx(90 / 639)
    assert row.all_days_median == 0.0
    lucky, ordinary = row.pivots
    assert lucky.value == pytest.approx(1.0)
    assert lucky.percentile == pytest.approx(100 * (639 - 90 / 2) / 639)
    assert ordinary.value == 0.0
    assert ordinary.percentile == pytest.approx(100 * (549 / 2) / 639)
    assert row.pivots_true == 1 and row.beat_median_day == 1


def _sawtooth(i: int, _: date) -> float:
    return 100.0 + i % 10  # 100, 101, ..., 109, 100, ...


def test_a_claim_true_on_most_days_is_not_supported_by_pivots_that_all_hold() -> None:
    # Every 6–18 month window holds a 109 close, so the claim fails only from a 109 close: true on
    # 90 % of days. Pivots starting from a 104 close all hold, yet sit mid-distribution.
    closes = daily(date(2015, 1, 1), date(2023, 12, 31), _sawtooth)
    pivot_days = [closes.days[i] + timedelta(days=1) for i in range(4, 2400, 400)]
    assert all(closes.close_before(d) == (d - timedelta(days=1), 104.0) for d in pivot_days)
    row = claim_baseline(WINDOW_CLAIM, "BTC", closes, pivot_days)
    assert row.base_rate == pytest.approx(0.9, abs=0.002)
    assert (row.pivots_true, len(row.measured)) == (6, 6)
    assert row.median_percentile == pytest.approx(55.0, abs=0.5)  # 5 residues below, one tied
    assert row.chance_true == pytest.approx(0.9**6, abs=0.01)
    assert not row.supported
    assert row.verdict.startswith("not supported by this data: median pivot percentile 55")
    assert "true after 6 of 6 pivots and on 90% of all" in row.verdict
    assert "so being true says little" in row.verdict


def _steps(first: date, step_days: list[date]) -> DailyCloses:
    """100, doubling on each step day: a 3-month return is +100 % only just before a step."""
    return daily(
        first, date(2022, 12, 31), lambda i, d: 100.0 * 2 ** sum(1 for s in step_days if d >= s)
    )


STEP_PIVOTS = [date(2016 + k, 2, 1) for k in range(6)]
STEP_CLOSES = _steps(date(2015, 1, 1), [d + timedelta(days=45) for d in STEP_PIVOTS])


def test_pivots_followed_by_rare_rises_are_supported() -> None:
    row = claim_baseline(UP_3M, "BTC", STEP_CLOSES, STEP_PIVOTS)
    # Each step makes about 90 of ~2,800 days +100 %: the pivots sit in the top ~10 %.
    assert row.base_rate == pytest.approx(6 * 90 / row.days, abs=0.01)
    assert all(p.value == pytest.approx(1.0) for p in row.pivots)
    assert row.median_percentile is not None and row.median_percentile > 85
    assert row.chance_beat == pytest.approx(1 / 64)
    assert row.supported
    assert row.verdict.startswith("supported: median pivot percentile 9")


def test_four_pivots_are_never_enough_however_good() -> None:
    row = claim_baseline(UP_3M, "BTC", STEP_CLOSES, STEP_PIVOTS[:4])
    assert row.median_percentile is not None and row.median_percentile > 85
    assert row.chance_beat == pytest.approx(1 / 16)
    assert not row.supported
    assert "only 4 pivots with data (need ≥ 5)" in row.verdict
    assert "4 of 4 beat the median day: chance 0.06 (need ≤ 0.05)" in row.verdict


def test_no_pivot_with_data_says_so() -> None:
    row = claim_baseline(UP_3M, "BTC", STEP_CLOSES, [date(2010, 1, 1)])
    assert row.pivots[0].value is None and row.pivots[0].percentile is None
    assert not row.supported and "no pivot toward easing has data" in row.verdict


def _wiggle(i: int, _: date) -> float:
    return 100.0 * math.exp(0.3 * math.sin(i / 37.0) + 0.2 * math.sin(i / 11.0) + i / 2000.0)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.key for c in CLAIMS])
def test_every_day_is_measured_exactly_like_a_pivot(claim: Claim) -> None:
    closes = daily(date(2018, 1, 1), date(2021, 6, 30), _wiggle)
    every_day = every_day_values(closes, claim)
    checked = 0
    for i in range(0, len(closes.days), 7):
        day = closes.days[i] + timedelta(days=1)
        outcome = asset_outcome("BTC", closes, day)
        value = claim.value(closes, day)
        if claim.months is None:
            assert value is None or (value > 0) == outcome.rose
        else:
            assert value == outcome.returns[HORIZON_MONTHS.index(claim.months)]
        if value is not None:
            assert value in every_day
            checked += 1
    assert checked > 20


def test_a_window_not_over_is_left_out_of_the_pivots_and_the_days() -> None:
    closes = daily(date(2020, 1, 1), date(2022, 6, 30), _wiggle)
    late = date(2022, 1, 1)
    row = claim_baseline(WINDOW_CLAIM, "BTC", closes, [late])
    assert row.pivots[0].value is None and row.measured == ()
    data_end = closes.days[-1] + timedelta(days=1)
    last_start = max(d for d in closes.days if add_months(d + timedelta(days=1), 18) <= data_end)
    assert row.days == closes.days.index(last_start) + 1


def test_buy_and_hold_pace_compounds_the_whole_history_over_the_horizon() -> None:
    closes = daily(date(2019, 1, 1), date(2021, 1, 1), lambda i, d: 100 * 1.001**i)
    row = claim_baseline(next(c for c in CLAIMS if c.months == 12), "BTC", closes, [])
    # Consecutive daily closes: the pace is a year of 0.1 % days.
    assert row.buy_hold_pace == pytest.approx(1.001**365.2425 - 1)
    assert claim_baseline(WINDOW_CLAIM, "BTC", closes, []).buy_hold_pace is None


def test_the_report_carries_the_baseline_into_its_conclusion_and_json() -> None:
    closes = {"BTC": daily(date(2015, 1, 1), date(2023, 12, 31), _sawtooth)}
    days = [closes["BTC"].days[i] + timedelta(days=1) for i in range(4, 2400, 400)]
    report = thesis_report(cycles(days), closes)
    assert report.held == 6
    assert report.baseline.pivot_days == tuple(days)  # easing pivots only
    assert "the same rise follows 90% of all BTC days" in report.conclusion
    assert "NOT supported by this data" in report.conclusion
    data = report_as_dict(report)["baseline"]
    assert isinstance(data, dict)
    window = next(c for c in data["claims"] if c["claim"] == "rose_6_18m")
    row = report.baseline.for_claim(WINDOW_CLAIM, "BTC")
    assert row is not None
    assert window["base_rate"] == row.base_rate and window["verdict"] == row.verdict
    assert window["supported"] is False and window["pivots_true"] == 6
    assert [p["percentile"] for p in window["pivots"]] == [p.percentile for p in row.pivots]
    assert data["rule"] == {"min_pivots": 5, "min_median_percentile": 75.0, "max_chance": 0.05}
    assert len(data["claims"]) == len(CLAIMS) == len(baseline([], closes, ["BTC"]).claims)


def test_the_printed_tables_show_each_pivot_cell_and_one_verdict_per_claim() -> None:
    closes = {"BTC": STEP_CLOSES, "ETH": daily(date(2015, 1, 1), date(2023, 12, 31), _sawtooth)}
    report = thesis_report(cycles(STEP_PIVOTS), closes)
    buffer = io.StringIO()
    print_thesis(report, Console(file=buffer, width=1000))
    text = buffer.getvalue()
    assert "Verdict rule: supported only with at least 5 pivots" in text
    assert "nothing here is statistically significant" in text
    for row in report.baseline.claims:
        assert f"- {row.asset}, {row.claim.text} — {row.verdict}." in text
    up_3m = report.baseline.for_claim(UP_3M, "BTC")
    assert up_3m is not None and up_3m.supported
    first = up_3m.pivots[0]
    assert first.percentile is not None
    assert f"+100.0% p{first.percentile:.0f}" in text
    assert "- BTC, closed above the start price 3 months later — supported: " in text


def test_a_later_pivot_of_the_same_easing_episode_is_shown_but_counted_once() -> None:
    day = STEP_PIVOTS[0]
    to_neutral = Pivot(day, Regime.TIGHTENING, Regime.NEUTRAL, ("rate hiking -> holding",))
    to_easing = Pivot(day + timedelta(days=1), Regime.NEUTRAL, Regime.EASING, ("qt -> flat",))
    hike = Pivot(day + timedelta(days=60), Regime.EASING, Regime.TIGHTENING, ())
    again = easing(day + timedelta(days=200))
    assert episode_repeats([to_neutral, to_easing, hike, again]) == {to_easing.date}
    assert episode_repeats([again, to_easing, to_neutral]) == {to_easing.date, again.date}
    report = thesis_report([to_neutral, to_easing, hike, again], {"BTC": STEP_CLOSES})
    assert report.baseline.pivot_days == (to_neutral.date, to_easing.date, again.date)
    row = report.baseline.for_claim(UP_3M, "BTC")
    assert row is not None
    assert [p.counted for p in row.pivots] == [True, False, True]
    assert [p.day for p in row.measured] == [to_neutral.date, again.date]
    assert row.pivots[1].percentile is not None  # still shown
    assert "1 later pivot of the same episode not counted" in row.verdict
    data = report_as_dict(report)["baseline"]
    assert isinstance(data, dict)
    window = next(c for c in data["claims"] if c["claim"] == "up_3m")
    assert [p["counted"] for p in window["pivots"]] == [True, False, True]
    assert window["pivots_measured"] == 2
