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
from bot.signals.calendar import load_fomc_calendar
from bot.signals.fed_announcements import BalanceSheet
from bot.signals.rate_path import rate_changes, rate_moves
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
    """The shared FRED copies with the shared FOMC calendar (outcomes blank from 2025-12-10)."""
    for name in ("WALCL.csv", "DFEDTARU.csv", "DFEDTARL.csv", "DFF.csv"):
        shared_file(name)
    calendar = load_fomc_calendar(shared_file("fomc_decisions.csv"))
    return inputs_from_directory(SHARED_DATA).with_decisions(calendar.decisions)


def shipped_with_calendar() -> RegimeInputs:
    """What the daemon reads with `fed_source=file` and nothing else configured."""
    return shipped_inputs().with_decisions(load_fomc_calendar().decisions)


SOURCES = [
    pytest.param(shared_inputs, id="shared_data"),
    pytest.param(shipped_with_calendar, id="shipped_copy"),
]


@dataclass(frozen=True)
class Expected:
    label: str
    fed_date: date
    value: str  # balance-sheet state of the span
    inside: date  # a day inside the span
    edge: str  # "start" or "end"
    tolerance_days: int  # default params (announcements + series)
    # series-only params: the balance sheet lags, and a change the series shows waits for the
    # next Fed action (up to ~8 weeks between FOMC decisions)
    series_tolerance_days: int


EXPECTED = [
    Expected(
        "QT1 start (announced 2017-09-20)",
        date(2017, 10, 1),
        "qt",
        date(2018, 6, 1),
        "start",
        7,
        160 + 56,
    ),
    Expected(
        "QT1 end (announced 2019-07-31)",
        date(2019, 8, 1),
        "qt",
        date(2018, 6, 1),
        "end",
        7,
        60 + 56,
    ),
    Expected("QE 2020 start", date(2020, 3, 15), "qe", date(2020, 4, 1), "start", 7, 200),
    Expected(
        "QT2 start (announced 2022-05-04)",
        date(2022, 6, 1),
        "qt",
        date(2022, 12, 1),
        "start",
        7,
        90 + 56,
    ),
    Expected(
        "QT2 end (announced 2025-10-29)",
        date(2025, 12, 1),
        "qt",
        date(2025, 6, 1),
        "end",
        7,
        45 + 56,
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

    # 2019: the first cut (FOMC 2019-07-31) ends tightening while QT runs; QT ends the next day
    first_cut = found[date(2019, 7, 31)]
    assert (first_cut.from_regime, first_cut.to_regime) == (Regime.TIGHTENING, Regime.NEUTRAL)
    assert first_cut.causes == ("FOMC 2019-07-31: cut 25 bp; rate hiking -> cutting",)
    qt_end = found[date(2019, 8, 1)]
    assert (qt_end.from_regime, qt_end.to_regime) == (Regime.NEUTRAL, Regime.EASING)
    assert qt_end.causes == (
        "announcement 2019-08-01: QT ends (announced 2019-07-31); balance sheet qt -> flat",
    )
    # until the cut, the 2018 hikes still set the stance (the old window said holding from
    # 2019-06-28, a day the Fed did nothing)
    assert at(history, date(2019, 7, 30)).rate is Rate.HIKING

    # 2020: QE from the 15 March statement, in an easing regime
    qe = at(history, date(2020, 3, 15))
    assert (qe.start, qe.balance_sheet, qe.regime) == (date(2020, 3, 15), "qe", Regime.EASING)

    # 2022: the first hike (FOMC 2022-03-16) turns the regime to tightening
    first_hike = found[date(2022, 3, 16)]
    assert (first_hike.from_regime, first_hike.to_regime) == (Regime.EASING, Regime.TIGHTENING)
    assert first_hike.causes == ("FOMC 2022-03-16: hike 25 bp; rate cutting -> hiking",)

    # 2024: the first cut (FOMC 2024-09-18, 50 bp) ends the tightening regime
    cut_2024 = found[date(2024, 9, 18)]
    assert (cut_2024.from_regime, cut_2024.to_regime) == (Regime.TIGHTENING, Regime.NEUTRAL)
    assert cut_2024.causes == ("FOMC 2024-09-18: cut 50 bp; rate hiking -> cutting",)

    # 2025: the end of QT on 1 December turns the regime to easing
    end_of_qt = found[date(2025, 12, 1)]
    assert end_of_qt.to_regime is Regime.EASING
    assert end_of_qt.causes == (
        "announcement 2025-12-01: QT ends (announced 2025-10-29); balance sheet qt -> flat",
    )
    assert [p for p in found if p >= date(2019, 1, 1)] == [
        date(2019, 7, 31),
        date(2019, 8, 1),
        date(2022, 3, 16),
        date(2024, 9, 18),
        date(2025, 12, 1),
    ]


@pytest.mark.parametrize("load", SOURCES)
def test_december_2025_cut_comes_from_dff(load: Callable[[], RegimeInputs]) -> None:
    inputs = load()
    changes = [c for c in rate_changes(inputs, RegimeParams()) if c.date >= date(2025, 1, 1)]
    assert [(c.date, round(c.delta, 3), c.source) for c in changes] == [
        (date(2025, 9, 18), -0.25, "target"),
        (date(2025, 10, 30), -0.25, "target"),
        (date(2025, 12, 11), -0.25, "dff"),
    ]
    moves = rate_moves(inputs, rate_changes(inputs, RegimeParams()))
    (december,) = [m for m in moves if m.day == date(2025, 12, 10)]
    # the shipped calendar records the cut; the shared one leaves it blank and DFF fills it
    assert december.action.label in (
        "FOMC 2025-12-10: cut 25 bp",
        "FOMC 2025-12-10: cut 25 bp (DFF; no outcome in the calendar)",
    )


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


def _day_by_day(inputs: RegimeInputs, params: RegimeParams, through: date) -> list[tuple]:
    """The classifier's definition, walked one calendar day at a time (the reference for
    `regime_history`, which only looks at the days where an input can change)."""
    bs_line, rate_line = _timelines(inputs, params)
    start = _first_day(inputs, bs_line)
    assert start is not None
    use_announcements = params.bs_basis is BalanceSheetBasis.ANNOUNCEMENTS_THEN_SERIES
    periods: list[tuple] = []
    current, current_start, day = None, start, start
    while day <= through:
        balance_sheet = bs_line.state(day, use_announcements)[0] or BalanceSheet.FLAT
        rate = rate_line.state(day)
        key = (combine(balance_sheet, rate, params.rule), balance_sheet, rate)
        if key != current:
            if current is not None:
                periods.append((current_start, day, *current))
            current, current_start = key, day
        day += timedelta(days=1)
    if current is not None:
        periods.append((current_start, None, *current))
    return periods


def _without_changes(history: list[RegimePeriod]) -> list[tuple]:
    return [(p.start, p.end, p.regime, p.balance_sheet, p.rate) for p in history]


PARAM_VARIANTS = [
    pytest.param(RegimeParams(), id="defaults"),
    pytest.param(RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY), id="series_only"),
    pytest.param(RegimeParams(announcement_horizon_days=120), id="announcement_horizon"),
    pytest.param(RegimeParams(rule=CombineRule.RATE_FIRST), id="rate_first"),
    pytest.param(
        RegimeParams(rule=CombineRule.ANY_TIGHTENING, bs_window_weeks=4), id="any_tightening"
    ),
    pytest.param(RegimeParams(announcement_horizon_days=3_000_000), id="horizon_past_date_max"),
]


@pytest.mark.parametrize("load", SOURCES)
@pytest.mark.parametrize("params", PARAM_VARIANTS)
def test_history_equals_the_day_by_day_walk(
    load: Callable[[], RegimeInputs], params: RegimeParams
) -> None:
    inputs = load()
    for as_of in (date(2019, 8, 2), date(2020, 3, 20), date(2025, 12, 15), date(2026, 9, 30)):
        known = known_at(inputs, as_of, params)
        walked = _day_by_day(known, params, as_of)
        assert _without_changes(regime_history(known, params, as_of)) == walked
