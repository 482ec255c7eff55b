"""Where the candle reader draws the line between milliseconds and other units, and CAGR over
a span too short to annualise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.backtest.candles import DAY_MS, CandleFileError, parse_candles
from bot.backtest.metrics import MIN_CAGR_DAYS, annualised, performance

HEADER = "timestamp,open,high,low,close,volume\n"


def _file(*stamps: int) -> str:
    return HEADER + "".join(f"{ts},1,2,0.5,1.5,3\n" for ts in stamps)


@pytest.mark.parametrize(
    ("stamps", "says"),
    [
        pytest.param((1_727_740_800,), "seconds", id="seconds_2024"),
        pytest.param((10**9,), "seconds", id="seconds_lowest"),
        pytest.param((1_727_740_800_000_000,), "microseconds", id="microseconds_2024"),
        pytest.param((1_727_740_800_000_000_000,), "nanoseconds", id="nanoseconds_2024"),
        pytest.param((10**20,), "not milliseconds", id="beyond_every_unit"),
    ],
)
def test_timestamps_in_another_unit_are_refused_with_the_factor(
    stamps: tuple[int, ...], says: str
) -> None:
    with pytest.raises(CandleFileError, match=f"line 2: .*{says}"):
        parse_candles(_file(*stamps), "BTC/USDT", "f.csv")


@pytest.mark.parametrize(
    "stamps",
    [
        pytest.param((10**9 - 1,), id="just_under_the_seconds_range"),
        pytest.param((1_727_740_800_000,), id="milliseconds_2024"),
        # A synthetic file counted from the epoch runs into the seconds range after 11.6 days:
        # only the first timestamp decides.
        pytest.param((0, 20 * DAY_MS), id="epoch_based_file_past_day_12"),
    ],
)
def test_millisecond_timestamps_are_read_as_written(stamps: tuple[int, ...]) -> None:
    assert parse_candles(_file(*stamps), "BTC/USDT", "f.csv").ts.tolist() == list(stamps)


@pytest.mark.parametrize(
    ("days", "final", "expected"),
    [
        pytest.param(1 / 144, 102.0, None, id="ten_minutes_would_overflow"),
        pytest.param(MIN_CAGR_DAYS - 0.01, 150.0, None, id="just_under_the_minimum"),
        pytest.param(365.0, 200.0, 1.0, id="a_year_that_doubles"),
        pytest.param(365.0, 0.0, None, id="equity_wiped_out"),
        pytest.param(MIN_CAGR_DAYS, 1e300, None, id="too_large_for_a_float"),
    ],
)
def test_cagr_is_stated_only_over_a_span_that_can_be_annualised(
    days: float, final: float, expected: float | None
) -> None:
    cagr = annualised(100.0, final, days)
    assert cagr == (None if expected is None else pytest.approx(expected))


def test_a_replay_of_minutes_has_a_total_return_and_no_cagr() -> None:
    times = np.array([600_000], dtype=np.int64)
    perf = performance(0, times, np.array([102.0]), 100.0, None, 0.0)
    assert math.isclose(perf.total_return, 0.02) and perf.cagr is None
    assert perf.as_dict()["cagr"] is None
