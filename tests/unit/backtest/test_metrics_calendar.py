"""Returns by calendar month and year, drawdown dates and exposure, on curves built by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from bot.backtest.calendar_returns import drawdown_episode, period_returns
from bot.backtest.candles import to_ms
from bot.backtest.metrics import performance, time_share

DAY_MS = 86_400_000


def at(*ymd: int) -> int:
    return to_ms(datetime(*ymd, tzinfo=UTC))


# Bar close times (a bar closing at midnight belongs to the day before) and equity there.
CURVE = [
    (at(2024, 1, 2), 105.0),
    (at(2024, 2, 1), 110.0),  # the Jan 31 bar: still January
    (at(2024, 2, 15), 130.0),
    (at(2024, 3, 1), 99.0),  # the Feb 29 bar: end of February
    (at(2024, 3, 10), 99.0),
    (at(2025, 1, 5), 49.5),  # no bar from April to December
]
TIMES = np.array([t for t, _ in CURVE], dtype=np.int64)
EQUITY = np.array([v for _, v in CURVE])


def test_monthly_returns_by_utc_calendar_month() -> None:
    months = period_returns(TIMES, EQUITY, 100.0, "M")
    assert months == {
        "2024-01": pytest.approx(110 / 100 - 1),
        "2024-02": pytest.approx(99 / 110 - 1),
        "2024-03": pytest.approx(0.0),
        "2025-01": pytest.approx(49.5 / 99 - 1),  # from the last month with a bar
    }


def test_yearly_returns_compound_the_months() -> None:
    years = period_returns(TIMES, EQUITY, 100.0, "Y")
    assert years == {"2024": pytest.approx(-0.01), "2025": pytest.approx(-0.5)}
    months = period_returns(TIMES, EQUITY, 100.0, "M")
    growth = np.prod([1 + r for k, r in months.items() if k.startswith("2024")])
    assert growth - 1 == pytest.approx(years["2024"])


def test_period_returns_refuse_an_unknown_unit_and_accept_no_bars() -> None:
    with pytest.raises(ValueError, match="'M' or 'Y'"):
        period_returns(TIMES, EQUITY, 100.0, "W")
    assert period_returns(TIMES[:0], EQUITY[:0], 100.0, "M") == {}


def test_worst_drawdown_still_under_water() -> None:
    episode = drawdown_episode(at(2024, 1, 1), TIMES, EQUITY, 100.0)
    assert episode.depth == pytest.approx(49.5 / 130 - 1)
    assert episode.peak == datetime(2024, 2, 15, tzinfo=UTC)
    assert episode.trough == datetime(2025, 1, 5, tzinfo=UTC)
    assert episode.recovered is None
    # Under water from the peak on 2024-02-15 to the end (2025-01-05): 325 days.
    assert episode.longest_days == pytest.approx(325)


def test_recovered_drawdown_and_the_longest_one() -> None:
    start = at(2024, 1, 1)
    times = start + DAY_MS * np.array([1, 3, 4, 14, 15], dtype=np.int64)
    equity = np.array([90.0, 100.0, 120.0, 60.0, 130.0])
    episode = drawdown_episode(start, times, equity, 100.0)
    assert episode.depth == pytest.approx(-0.5)
    assert episode.peak == datetime(2024, 1, 5, tzinfo=UTC)  # the 120 on day 4
    assert episode.trough == datetime(2024, 1, 15, tzinfo=UTC)
    assert episode.recovered == datetime(2024, 1, 16, tzinfo=UTC)
    # Two stretches under water: days 0-3 (back at 100 on day 3) and days 4-15.
    assert episode.longest_days == pytest.approx(11)


def test_never_below_a_peak_has_no_drawdown() -> None:
    times = at(2024, 1, 1) + DAY_MS * np.arange(1, 4, dtype=np.int64)
    episode = drawdown_episode(at(2024, 1, 1), times, np.array([100.0, 101.0, 101.0]), 100.0)
    assert (episode.depth, episode.peak, episode.longest_days) == (0.0, None, 0.0)


def test_exposure_is_the_share_of_time_with_a_position() -> None:
    # Bars of 1 day and then 3 days: a position in the second only is 3 of 4 days.
    times = np.array([DAY_MS, 4 * DAY_MS], dtype=np.int64)
    assert time_share(0, times, np.array([0.0, 1.0])) == pytest.approx(0.75)
    assert time_share(0, times, np.array([1.0, 0.0])) == pytest.approx(0.25)
    figures = performance(0, times, np.array([100.0, 100.0]), 100.0, np.array([0.0, 1.0]), 0.0)
    assert figures.exposure == pytest.approx(0.75)
    assert time_share(0, times[:0], np.array([])) == 0.0
