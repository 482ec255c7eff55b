"""Walk-forward windows: train on one span, test the chosen settings on the span after it.

Rolling windows keep the train span's length; anchored ones all start at the data's first day.
Each step moves by the test length, so the test spans tile the out-of-sample period with no
overlap. Boundaries fall on midnight UTC, as `qtbot backtest --from/--to` takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Mode = Literal["rolling", "anchored"]
# A last test span shorter than this share of the test length is dropped: too few days to score.
MIN_LAST_TEST_SHARE = 0.5


@dataclass(frozen=True)
class Window:
    index: int
    train_start: datetime
    train_end: datetime  # = test start
    test_end: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "train": [f"{self.train_start:%Y-%m-%d}", f"{self.train_end:%Y-%m-%d}"],
            "test": [f"{self.train_end:%Y-%m-%d}", f"{self.test_end:%Y-%m-%d}"],
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _years(days: float) -> timedelta:
    return timedelta(days=round(days * 365.25))


def walk_forward_windows(
    first: date, end: date, train_years: float, test_years: float, mode: Mode = "rolling"
) -> list[Window]:
    """Windows over [first, end); ValueError (one line) when not even one fits."""
    if train_years <= 0 or test_years <= 0:
        raise ValueError("--train-years and --test-years must be above 0")
    start = _midnight(first)
    stop = _midnight(end)
    train, test = _years(train_years), _years(test_years)
    windows: list[Window] = []
    test_start = start + train
    while test_start < stop:
        test_end = min(test_start + test, stop)
        if test_end - test_start < test * MIN_LAST_TEST_SHARE:
            break
        train_start = start if mode == "anchored" else test_start - train
        windows.append(Window(len(windows), train_start, test_start, test_end))
        test_start = test_end
    if not windows:
        span = (stop - start).days / 365.25
        raise ValueError(
            f"the data cover {span:.1f} years, too few for {train_years:g} years of training "
            f"and {test_years:g} of testing: shorten --train-years/--test-years or add candles"
        )
    return windows
