"""The regime history on the real FRED series (shared copy) and the shipped copy (CI).

Run with `-s` to see the table of dates found against the Fed's announced dates.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from bot.feeds.fed_inputs import inputs_from_directory, shipped_inputs
from bot.signals.fed_announcements import BalanceSheet
from bot.signals.rate_path import rate_changes
from bot.signals.regime import (
    _first_day,
    _timelines,
    combine,
    known_at,
    pivots,
    regime_at,
    regime_history,
    spans,
)
from bot.signals.regime_types import (
    BalanceSheetBasis,
    CombineRule,
    Rate,
    Regime,
    RegimeInputs,
    RegimeParams,
    RegimePeriod,
    Span,
)
from tests.unit.signals.data_paths import SHARED_DATA, shared_file


def shared_inputs() -> RegimeInputs:
    for name in ("WALCL.csv", "DFEDTARU.csv", "DFEDTARL.csv", "DFF.csv"):
        shared_file(name)
    return inputs_from_directory(SHARED_DATA)


SOURCES = [
    pytest.param(shared_inputs, id="shared_data"),
    pytest.param(shipped_inputs, id="shipped_copy"),
]


@dataclass(frozen=True)
class Expected:
    label: str
    fed_date: date
    value: str  # balance-sheet state of the span
    inside: date  # a day inside the span
    edge: str  # "start" or "end"
    tolerance_days: int  # default params (announcements + series)
    series_tolerance_days: int  # series-only params: the balance sheet lags


EXPECTED = [
    Expected(
        "QT1 start (announced 2017-09-20)",
        date(2017, 10, 1),
        "qt",
        date(2018, 6, 1),
        "start",
        7,
        160,
    ),
    Expected(
        "QT1 end (announced 2019-07-31)", date(2019, 8, 1), "qt", date(2018, 6, 1), "end", 7, 60
    ),
    Expected("QE 2020 start", date(2020, 3, 15), "qe", date(2020, 4, 1), "start", 7, 200),
    Expected(
        "QT2 start (announced 2022-05-04)",
        date(2022, 6, 1),
        "qt",
        date(2022, 12, 1),
        "start",
        7,
        90,
    ),
    Expected(
        "QT2 end (announced 2025-10-29)", date(2025, 12, 1), "qt", date(2025, 6, 1), "end", 7, 45
    ),
]


def covering(found: list[Span], day: date, value: str) -> Span:
    for span in found:
        if span.value == value and span.start <= day and (span.end is None or day < span.end):
            return span
    raise AssertionError(f"no {value} span covers {day}")


def at(history: list[RegimePeriod], day: date) -> RegimePeriod:
    period = regime_at(history, day)
    assert period is not None
    return period


def table(history: list[RegimePeriod], series: bool) -> list[tuple[Expected, date, int]]:
    found = spans(history, "balance_sheet")
    rows = []
    for expected in EXPECTED:
        span = covering(found, expected.inside, expected.value)
        day = span.start if expected.edge == "start" else span.end
        assert day is not None, f"{expected.label}: span still open"
        rows.append((expected, day, (day - expected.fed_date).days))
    title = "series only (WALCL)" if series else "default (announcements, then WALCL)"
    print(f"\n{title}:\n{'period':36} {'found':10} {'Fed date':10} error (days)")
    for expected, day, error in rows:
        print(f"{expected.label:36} {day} {expected.fed_date} {error:+d}")
    return rows


@pytest.mark.parametrize("load", SOURCES)
def test_default_history_finds_qt_and_qe_at_the_fed_dates(load: Callable[[], RegimeInputs]) -> None:
    history = regime_history(load())
    for expected, _, error in table(history, series=False):
        assert abs(error) <= expected.tolerance_days, expected.label


@pytest.mark.parametrize("load", SOURCES)
def test_series_only_history_lags_within_bounds(load: Callable[[], RegimeInputs]) -> None:
    params = RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY)
    history = regime_history(load(), params)
    for expected, _, error in table(history, series=True):
        assert abs(error) <= expected.series_tolerance_days, expected.label
    # the October 2019 bill purchases look like QE to the series alone
    assert at(history, date(2019, 12, 1)).balance_sheet == "qe"


@pytest.mark.parametrize("load", SOURCES)
def test_default_history_shows_the_playbook_pivots(load: Callable[[], RegimeInputs]) -> None:
    history = regime_history(load())
    found = {p.date: p for p in pivots(history)}
    print("\npivots:")
    for pivot in pivots(history):
        print(f"  {pivot.date} {pivot.from_regime:>10} -> {pivot.to_regime:<10} {pivot.causes}")
    rate_spans = spans(history, "rate")
    print(
        "rate spans 2017+:",
        [(s.start.isoformat(), s.value) for s in rate_spans if s.start >= date(2017, 1, 1)],
    )

    # 2019: hikes end (last hike effective 2018-12-20, seen once the 190-day window passes),
    # then QT ends and the first cut comes on the same day: tightening -> easing
    end_of_hikes_2019 = covering(rate_spans, date(2019, 7, 15), "holding")
    assert date(2019, 6, 1) <= end_of_hikes_2019.start <= date(2019, 7, 31)
    assert at(history, date(2019, 7, 31)).regime is Regime.TIGHTENING
    pivot_2019 = found[date(2019, 8, 1)]
    assert (pivot_2019.from_regime, pivot_2019.to_regime) == (Regime.TIGHTENING, Regime.EASING)
    assert "balance_sheet qt -> flat" in pivot_2019.causes

    # 2020: QE from the 15 March statement, in an easing regime
    qe = at(history, date(2020, 3, 15))
    assert (qe.start, qe.balance_sheet, qe.regime) == (date(2020, 3, 15), "qe", Regime.EASING)

    # 2023-24: the hikes end (last hike 2023-07-27) and the first cut (2024-09-19) ends
    # the tightening regime
    end_of_hikes_2024 = covering(rate_spans, date(2024, 3, 1), "holding")
    assert date(2024, 1, 1) <= end_of_hikes_2024.start <= date(2024, 2, 29)
    first_cut = found[date(2024, 9, 19)]
    assert first_cut.from_regime is Regime.TIGHTENING
    assert first_cut.to_regime in (Regime.NEUTRAL, Regime.EASING)
    assert at(history, date(2024, 9, 19)).rate is Rate.CUTTING

    # 2025: the end of QT on 1 December turns the regime to easing
    end_of_qt = found[date(2025, 12, 1)]
    assert end_of_qt.to_regime is Regime.EASING
    assert end_of_qt.causes == ("balance_sheet qt -> flat",)


@pytest.mark.parametrize("load", SOURCES)
def test_december_2025_cut_comes_from_dff(load: Callable[[], RegimeInputs]) -> None:
    changes = [c for c in rate_changes(load(), RegimeParams()) if c.date >= date(2025, 1, 1)]
    assert [(c.date, round(c.delta, 3), c.source) for c in changes] == [
        (date(2025, 9, 18), -0.25, "target"),
        (date(2025, 10, 30), -0.25, "target"),
        (date(2025, 12, 11), -0.25, "dff"),
    ]


def test_dff_implied_changes_match_the_later_target_range() -> None:
    cache = json.loads(shared_file("fred_cache_2021-05_to_2026-08.json").read_text())
    upper = cache["series"]["DFEDTARU"]
    later = [
        (date.fromisoformat(d), v - p)
        for (_, p), (d, v) in itertools.pairwise(upper)
        if abs(v - p) > 1e-9 and d > "2025-12-10"
    ]
    implied = [
        (c.date, c.delta)
        for c in rate_changes(shared_inputs(), RegimeParams())
        if c.source == "dff"
    ]
    assert len(later) == len(implied)
    for (day, delta), (implied_day, implied_delta) in zip(later, implied, strict=True):
        assert implied_day == day
        assert implied_delta == pytest.approx(delta)


def _day_by_day(inputs: RegimeInputs, params: RegimeParams, through: date) -> list[RegimePeriod]:
    """The classifier's definition, walked one calendar day at a time (the reference for
    `regime_history`, which only looks at the days where an input can change)."""
    bs_line, rate_line = _timelines(inputs, params)
    start = _first_day(inputs, bs_line)
    assert start is not None
    use_announcements = params.bs_basis is BalanceSheetBasis.ANNOUNCEMENTS_THEN_SERIES
    periods: list[RegimePeriod] = []
    current, current_start, day = None, start, start
    while day <= through:
        balance_sheet = bs_line.state(day, use_announcements)[0] or BalanceSheet.FLAT
        rate = rate_line.state(day)
        key = (combine(balance_sheet, rate, params.rule), balance_sheet, rate)
        if key != current:
            if current is not None:
                periods.append(RegimePeriod(current_start, day, *current))
            current, current_start = key, day
        day += timedelta(days=1)
    if current is not None:
        periods.append(RegimePeriod(current_start, None, *current))
    return periods


PARAM_VARIANTS = [
    pytest.param(RegimeParams(), id="defaults"),
    pytest.param(RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY), id="series_only"),
    pytest.param(RegimeParams(announcement_horizon_days=120), id="announcement_horizon"),
    pytest.param(RegimeParams(rate_window_days=30, rule=CombineRule.RATE_FIRST), id="short_rate"),
    pytest.param(
        RegimeParams(rule=CombineRule.ANY_TIGHTENING, bs_window_weeks=4), id="any_tightening"
    ),
    pytest.param(
        RegimeParams(announcement_horizon_days=3_000_000, rate_window_days=3_000_000),
        id="windows_past_date_max",
    ),
]


@pytest.mark.parametrize("load", SOURCES)
@pytest.mark.parametrize("params", PARAM_VARIANTS)
def test_history_equals_the_day_by_day_walk(
    load: Callable[[], RegimeInputs], params: RegimeParams
) -> None:
    inputs = load()
    for as_of in (date(2019, 8, 2), date(2020, 3, 20), date(2025, 12, 15), date(2026, 9, 30)):
        known = known_at(inputs, as_of, params)
        assert regime_history(known, params, as_of) == _day_by_day(known, params, as_of)
