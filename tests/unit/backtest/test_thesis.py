"""The thesis verdicts, computed from hand-made pivots and closes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.backtest.thesis import (
    DailyCloses,
    Verdict,
    add_months,
    asset_outcome,
    max_drawdown,
    thesis_report,
)
from bot.signals.regime_types import Pivot, Regime

PIVOT = date(2020, 1, 1)


def closes(start: date, prices: list[float]) -> DailyCloses:
    return DailyCloses.merge([[(start + timedelta(days=i), p) for i, p in enumerate(prices)]])


def monthly(values: dict[int, float], until_month: int = 19) -> DailyCloses:
    """One close per day; the price steps to `values[m]` from month m after PIVOT onward."""
    rows: list[tuple[date, float]] = []
    day, price = PIVOT - timedelta(days=10), 100.0
    end = add_months(PIVOT, until_month)
    while day < end:
        for month, value in values.items():
            if day >= add_months(PIVOT, month):
                price = value
        rows.append((day, price if day >= PIVOT else 100.0))
        day += timedelta(days=1)
    return DailyCloses.merge([rows])


def easing(day: date = PIVOT) -> Pivot:
    return Pivot(day, Regime.TIGHTENING, Regime.EASING, ("rate holding -> cutting",))


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param(date(2020, 1, 31), 1, date(2020, 2, 29), id="clamps_to_leap_february"),
        pytest.param(date(2019, 8, 1), 18, date(2021, 2, 1), id="crosses_a_year"),
        pytest.param(date(2020, 11, 15), 3, date(2021, 2, 15), id="wraps_december"),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_max_drawdown_is_the_deepest_fall_from_a_running_peak() -> None:
    assert max_drawdown([100, 120, 60, 150, 90]) == pytest.approx(-0.5)
    assert max_drawdown([1, 2, 3]) == 0.0


def test_returns_at_each_horizon_from_the_last_close_before_the_pivot() -> None:
    data = monthly({0: 90, 3: 120, 6: 80, 12: 200, 18: 150})
    outcome = asset_outcome("BTC", data, PIVOT)
    assert outcome.pivot_price == 100.0
    # The horizon price is the last close before pivot + N months: still the old level.
    assert outcome.returns == pytest.approx((-0.1, 0.2, -0.2, 1.0))
    assert outcome.max_drawdown == pytest.approx(80 / 120 - 1)
    assert outcome.rose is True


@pytest.mark.parametrize(
    ("values", "until", "verdict"),
    [
        pytest.param({0: 90, 6: 95, 12: 99}, 19, Verdict.FAILED, id="never_above_in_window"),
        pytest.param({0: 90, 5: 150, 6: 95}, 19, Verdict.FAILED, id="rise_before_6m_not_counted"),
        pytest.param({0: 90, 17: 101}, 19, Verdict.HELD, id="rise_late_in_window"),
        pytest.param({0: 90}, 10, Verdict.OPEN, id="window_not_over"),
    ],
)
def test_claim_verdict(values: dict[int, float], until: int, verdict: Verdict) -> None:
    report = thesis_report([easing()], {"BTC": monthly(values, until)})
    assert report.outcomes[0].verdict is verdict


def test_one_asset_failing_fails_the_pivot_and_tightening_pivots_are_not_tested() -> None:
    up, down = monthly({0: 90, 12: 150}), monthly({0: 90})
    toward_tightening = Pivot(PIVOT, Regime.NEUTRAL, Regime.TIGHTENING, ())
    report = thesis_report([easing(), toward_tightening], {"ETH": down, "BTC": up})
    assert report.assets == ("BTC", "ETH")
    assert [o.verdict for o in report.outcomes] == [Verdict.FAILED, Verdict.NOT_TESTED]
    assert (report.held, report.failed, report.strict_tested) == (0, 1, 1)
    assert "did NOT hold" in report.conclusion


def test_pivot_before_the_data_has_no_data() -> None:
    late = closes(PIVOT + timedelta(days=30), [100.0] * 600)
    report = thesis_report([easing()], {"BTC": late})
    assert report.outcomes[0].verdict is Verdict.NO_DATA
    assert report.no_data == 1 and report.tested == 0
