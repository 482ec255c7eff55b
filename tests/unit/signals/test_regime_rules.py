"""Regime classifier rules on small synthetic series: hysteresis, rates from FOMC decisions,
DFF, announcements, and the Fed action behind every change."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.signals.balance_sheet import next_state, series_states
from bot.signals.calendar import FomcDecision
from bot.signals.fed_announcements import (
    AnnouncementFileError,
    AnnouncementKind,
    BalanceSheet,
    FedAnnouncement,
    load_announcements,
    parse_announcements,
)
from bot.signals.fred import FredSeries
from bot.signals.rate_path import rate_changes, rate_moves
from bot.signals.regime import (
    classify,
    combine,
    known_at,
    pivots,
    regime_at,
    regime_history,
    spans,
)
from bot.signals.regime_types import (
    ActionKind,
    BalanceSheetBasis,
    CombineRule,
    Rate,
    Regime,
    RegimeInputs,
    RegimeParams,
    RegimePeriod,
    RegimeSource,
)

QT, QE, FLAT = BalanceSheet.QT, BalanceSheet.QE, BalanceSheet.FLAT
HIKING, CUTTING, HOLDING = Rate.HIKING, Rate.CUTTING, Rate.HOLDING
T, N, E = Regime.TIGHTENING, Regime.NEUTRAL, Regime.EASING


def weekly(start: date, levels: list[float], series_id: str = "WALCL") -> FredSeries:
    dates = tuple(start + timedelta(weeks=i) for i in range(len(levels)))
    return FredSeries(series_id, dates, tuple(levels))


def daily(start: date, end: date, level_on: dict[date, float], series_id: str) -> FredSeries:
    """A daily step series: the level changes on the given dates."""
    days, values, level = [], [], None
    day = start
    while day <= end:
        level = level_on.get(day, level)
        if level is not None:
            days.append(day)
            values.append(level)
        day += timedelta(days=1)
    return FredSeries(series_id, tuple(days), tuple(values))


def at(history: list[RegimePeriod], day: date) -> RegimePeriod:
    period = regime_at(history, day)
    assert period is not None, f"no period covers {day}"
    return period


def flat_walcl(start: date, weeks: int, level: float = 4_000_000.0) -> FredSeries:
    return weekly(start, [level] * weeks)


def announcement(effective: date, kind: AnnouncementKind, announced: date | None = None):
    return FedAnnouncement(effective, announced or effective, kind, True, "test")


def decision(day: date, outcome: str | None, bps: int | None = None) -> FomcDecision:
    """An FOMC decision published at 14:00 New York in winter (19:00 UTC)."""
    if bps is None and outcome == "hold":
        bps = 0
    return FomcDecision(
        at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=19),
        meeting_start=day - timedelta(days=1),
        scheduled=True,
        decision=outcome,
        change_bps=bps,
        target_upper_after=None,
    )


@pytest.mark.parametrize(
    ("balance_sheet", "rate", "rule", "expected"),
    [
        pytest.param(QT, HIKING, CombineRule.SUM, T, id="sum_qt_hiking"),
        pytest.param(QT, HOLDING, CombineRule.SUM, T, id="sum_qt_holding"),
        pytest.param(QT, CUTTING, CombineRule.SUM, N, id="sum_qt_cutting_is_neutral"),
        pytest.param(FLAT, CUTTING, CombineRule.SUM, E, id="sum_end_of_qt_while_cutting"),
        pytest.param(QE, HOLDING, CombineRule.SUM, E, id="sum_qe_holding"),
        pytest.param(FLAT, HOLDING, CombineRule.SUM, N, id="sum_flat_holding"),
        pytest.param(QT, CUTTING, CombineRule.RATE_FIRST, E, id="rate_first_cut_wins"),
        pytest.param(QT, HOLDING, CombineRule.RATE_FIRST, T, id="rate_first_holding_uses_bs"),
        pytest.param(QT, CUTTING, CombineRule.BALANCE_SHEET_FIRST, T, id="bs_first_qt_wins"),
        pytest.param(FLAT, HIKING, CombineRule.BALANCE_SHEET_FIRST, T, id="bs_first_flat_rate"),
        pytest.param(QE, HIKING, CombineRule.ANY_TIGHTENING, T, id="any_tightening_hike_wins"),
        pytest.param(QE, HOLDING, CombineRule.ANY_TIGHTENING, E, id="any_tightening_qe_eases"),
    ],
)
def test_combine_rules(
    balance_sheet: BalanceSheet, rate: Rate, rule: CombineRule, expected: Regime
) -> None:
    assert combine(balance_sheet, rate, rule) is expected


def test_hysteresis_enters_qt_at_enter_threshold_and_leaves_only_above_exit() -> None:
    params = RegimeParams(bs_window_weeks=1, bs_enter_change=0.01, bs_exit_change=0.0025)
    # week-on-week changes: -0.5 % (stay flat), -1.2 % (enter qt), -0.5 % (hold qt),
    # -0.3 % (hold qt), -0.1 % (exit to flat), +0.8 % (stay flat)
    levels = [100.0]
    for change in (-0.005, -0.012, -0.005, -0.003, -0.001, 0.008):
        levels.append(levels[-1] * (1 + change))
    states = [r.state for r in series_states(weekly(date(2020, 1, 1), levels), params)]
    assert states == [FLAT, QT, QT, QT, FLAT, FLAT]


@given(
    state=st.sampled_from(list(BalanceSheet)),
    change=st.floats(min_value=-0.2, max_value=0.2, allow_nan=False),
)
def test_next_state_moves_only_across_thresholds(state: BalanceSheet, change: float) -> None:
    params = RegimeParams()
    new = next_state(state, change, params)
    if new is QT and state is not QT:
        assert change <= -params.bs_enter_change
    if new is QE and state is not QE:
        assert change >= params.bs_enter_change
    if state is QT and new is not QT:
        assert change > -params.bs_exit_change
    if state is QE and new is not QE:
        assert change < params.bs_exit_change


def rate_inputs(
    changes: dict[date, float],
    end: date,
    dff: FredSeries | None = None,
    walcl: FredSeries | None = None,
    announcements: tuple[FedAnnouncement, ...] = (),
    decisions: tuple[FomcDecision, ...] = (),
) -> RegimeInputs:
    """Target range 2.00/1.75 % from 2020-01-01 with `changes` to the upper limit."""
    start = date(2020, 1, 1)
    upper = daily(start, end, {start: 2.0, **changes}, "DFEDTARU")
    lower = FredSeries("DFEDTARL", upper.dates, tuple(v - 0.25 for v in upper.values))
    walcl = walcl if walcl is not None else flat_walcl(date(2019, 1, 2), 200)
    return RegimeInputs(walcl, upper, lower, dff, announcements, decisions)


def test_a_hike_keeps_the_stance_through_holds_until_a_decision_cuts() -> None:
    hike, cut = date(2020, 3, 4), date(2021, 9, 22)
    holds = tuple(decision(hike + timedelta(weeks=6 * i), "hold") for i in range(1, 12))
    inputs = rate_inputs(
        {hike + timedelta(days=1): 2.25, cut + timedelta(days=1): 2.0},
        date(2022, 6, 1),
        decisions=(decision(hike, "hike", 25), *holds, decision(cut, "cut", -25)),
    )
    history = regime_history(inputs)
    assert at(history, hike - timedelta(days=1)).rate is HOLDING
    assert at(history, hike).rate is HIKING
    # eleven holds and 18 months later (the old 190-day window ran out in September 2020)
    assert at(history, cut - timedelta(days=1)).rate is HIKING
    assert at(history, cut).rate is CUTTING
    assert [s.start for s in spans(history, "rate")] == [date(2020, 1, 1), hike, cut]
    (rate_change,) = at(history, cut).changes
    assert rate_change.label == f"FOMC {cut}: cut 25 bp; rate hiking -> cutting"


def test_calendar_outcome_wins_and_a_blank_outcome_is_read_from_the_target_range() -> None:
    first, second = date(2020, 3, 4), date(2020, 6, 10)
    inputs = rate_inputs(
        # the range says +50 bp for the first decision: the calendar's 25 bp is kept
        {first + timedelta(days=1): 2.5, second + timedelta(days=1): 2.75},
        date(2020, 12, 1),
        decisions=(decision(first, "hike", 25), decision(second, None)),
    )
    moves = rate_moves(inputs, rate_changes(inputs, RegimeParams()))
    assert [(m.day, m.action.label) for m in moves] == [
        (first, f"FOMC {first}: hike 25 bp"),
        (second, f"FOMC {second}: hike 25 bp (target range; no outcome in the calendar)"),
    ]


def test_without_a_calendar_a_target_change_is_dated_the_day_before_it_took_effect() -> None:
    effective = date(2020, 3, 5)
    inputs = rate_inputs({effective: 2.25}, date(2020, 12, 1))
    history = regime_history(inputs)
    (pivot,) = pivots(history)
    assert pivot.date == date(2020, 3, 4)
    assert pivot.causes == (
        "FOMC 2020-03-04: hike 25 bp (target range; not in the calendar); rate holding -> hiking",
    )


def test_dff_stands_in_after_the_target_range_ends() -> None:
    target_end = date(2020, 6, 30)
    dff_levels = {date(2020, 1, 1): 1.88, date(2020, 7, 10): 1.63}
    dff = daily(date(2020, 1, 1), date(2020, 9, 1), dff_levels, "DFF")
    inputs = rate_inputs({}, target_end, dff)
    changes = rate_changes(inputs, RegimeParams())
    assert [(c.date, c.source) for c in changes] == [(date(2020, 7, 10), "dff")]
    assert changes[0].delta == pytest.approx(-0.25)
    history = regime_history(inputs)
    assert at(history, date(2020, 7, 8)).rate is HOLDING
    assert at(history, date(2020, 7, 9)).rate is CUTTING  # the decision, the day before
    assert at(history, date(2020, 7, 9)).changes[0].action.note == "DFF; not in the calendar"


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        pytest.param({date(2020, 7, 10): 1.95, date(2020, 7, 11): 1.88}, [], id="5bp_noise"),
        pytest.param({date(2020, 7, 10): 1.63, date(2020, 7, 11): 1.88}, [], id="one_day_spike"),
        pytest.param({date(2020, 7, 10): 2.38}, [0.5], id="50bp_hike_rounds_to_steps"),
    ],
)
def test_dff_noise_and_spikes_are_not_rate_changes(
    moves: dict[date, float], expected: list[float]
) -> None:
    dff = daily(date(2020, 1, 1), date(2020, 9, 1), {date(2020, 1, 1): 1.88, **moves}, "DFF")
    changes = rate_changes(rate_inputs({}, date(2020, 6, 30), dff), RegimeParams())
    assert [round(c.delta, 4) for c in changes] == expected


def test_announcement_sets_balance_sheet_before_the_series_sees_it() -> None:
    inputs = rate_inputs(
        {},
        date(2020, 6, 1),
        announcements=(announcement(date(2020, 3, 1), AnnouncementKind.QT_START),),
    )
    default = regime_history(inputs)
    series_only = regime_history(inputs, RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY))
    assert at(default, date(2020, 3, 1)).balance_sheet is QT
    assert at(default, date(2020, 2, 29)).balance_sheet is FLAT
    assert {p.balance_sheet for p in series_only} == {FLAT}


def test_announcement_horizon_hands_back_to_the_series_at_the_next_fed_action() -> None:
    meeting = date(2020, 7, 29)
    inputs = rate_inputs(
        {},
        date(2020, 12, 1),
        announcements=(announcement(date(2020, 3, 1), AnnouncementKind.QT_START),),
        decisions=(decision(meeting, "hold"),),
    )
    history = regime_history(inputs, RegimeParams(announcement_horizon_days=100))
    # the horizon runs out on 2020-06-09, a day the Fed did nothing: no change then
    assert at(history, date(2020, 6, 9)).balance_sheet is QT
    assert at(history, meeting - timedelta(days=1)).balance_sheet is QT
    handed_back = at(history, meeting)
    assert (handed_back.start, handed_back.balance_sheet) == (meeting, FLAT)
    (change,) = handed_back.changes
    assert change.label == (
        f"FOMC {meeting}: hold; balance sheet qt -> flat per WALCL 13-week change"
    )


def test_series_change_waits_for_the_next_fed_action_or_is_labelled_as_the_series() -> None:
    # WALCL falls ~2 % a quarter from early 2020: qt to the series once the window holds it
    levels = [4_000_000.0] * 60 + [4_000_000.0 * (0.9985**i) for i in range(1, 80)]
    walcl = weekly(date(2019, 1, 2), levels)
    series_only = RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY)
    meeting = date(2020, 7, 29)
    seen = next(r.date for r in series_states(walcl, series_only) if r.state is QT)
    assert seen < meeting - timedelta(days=7)

    meetings = (decision(date(2020, 1, 29), "hold"), decision(meeting, "hold"))
    snapped = regime_history(
        rate_inputs({}, date(2020, 12, 1), walcl=walcl, decisions=meetings), series_only
    )
    assert at(snapped, meeting - timedelta(days=1)).balance_sheet is FLAT
    assert at(snapped, meeting).balance_sheet is QT
    assert at(snapped, meeting).changes[0].action.kind is ActionKind.FOMC

    # with no Fed action on file before it, the series moves alone and says so
    alone = regime_history(rate_inputs({}, date(2020, 12, 1), walcl=walcl), series_only)
    moved = at(alone, seen)
    assert (moved.start, moved.balance_sheet) == (seen, QT)
    (change,) = moved.changes
    assert change.action.kind is ActionKind.WALCL
    assert change.label == (
        f"WALCL {seen}: 13-week change (no Fed action on file); balance sheet flat -> qt"
    )


def test_pivots_and_spans_report_changes_with_their_fed_actions() -> None:
    hike, cut = date(2020, 3, 4), date(2021, 3, 17)
    inputs = rate_inputs(
        {hike + timedelta(days=1): 2.25, cut + timedelta(days=1): 2.0},
        date(2021, 12, 31),
        decisions=(decision(hike, "hike", 25), decision(date(2020, 9, 16), "hold")),
        announcements=(
            announcement(date(2021, 6, 1), AnnouncementKind.QE_START, date(2021, 5, 5)),
        ),
    )
    history = regime_history(inputs)
    found = [(p.date, p.from_regime, p.to_regime, p.causes) for p in pivots(history)]
    not_in_calendar = "(target range; not in the calendar)"
    assert found == [
        (hike, N, T, (f"FOMC {hike}: hike 25 bp; rate holding -> hiking",)),
        (cut, T, E, (f"FOMC {cut}: cut 25 bp {not_in_calendar}; rate hiking -> cutting",)),
    ]
    qe = at(history, date(2021, 6, 1))
    assert qe.changes[0].label == (
        "announcement 2021-06-01: QE starts (announced 2021-05-05); balance sheet flat -> qe"
    )
    rate_spans = spans(history, "rate")
    assert [s.value for s in rate_spans] == ["holding", "hiking", "cutting"]
    assert all(a.end == b.start for a, b in itertools.pairwise(rate_spans))


def test_override_wins_and_says_so() -> None:
    inputs = rate_inputs({date(2020, 3, 1): 2.25}, date(2020, 6, 1))
    now = datetime(2020, 5, 1, 12, tzinfo=UTC)
    reading = classify(inputs, now, override=Regime.EASING)
    assert reading.regime is Regime.EASING and reading.source is RegimeSource.OVERRIDE
    assert reading.data_regime is Regime.TIGHTENING
    assert any("overridden" in w for w in reading.warnings)
    plain = classify(inputs, now)
    assert plain.regime is Regime.TIGHTENING and plain.source is RegimeSource.DATA


def test_classify_sees_only_what_was_public_and_lists_upcoming_announcements() -> None:
    qt_end = announcement(date(2020, 6, 1), AnnouncementKind.QT_END, announced=date(2020, 4, 29))
    qt_start = announcement(date(2019, 10, 1), AnnouncementKind.QT_START)
    inputs = rate_inputs({}, date(2020, 8, 1), announcements=(qt_start, qt_end))
    before = classify(inputs, datetime(2020, 4, 28, tzinfo=UTC))
    after_statement = classify(inputs, datetime(2020, 5, 2, tzinfo=UTC))
    effective = classify(inputs, datetime(2020, 6, 1, tzinfo=UTC))
    assert before.upcoming == () and before.balance_sheet is QT
    assert after_statement.upcoming == (qt_end,) and after_statement.balance_sheet is QT
    assert effective.balance_sheet is FLAT and effective.upcoming == ()
    assert known_at(inputs, date(2020, 4, 28), RegimeParams()).announcements == (qt_start,)


def test_classify_warns_about_stale_series_and_requires_aware_now() -> None:
    inputs = rate_inputs({}, date(2020, 6, 1), walcl=flat_walcl(date(2019, 1, 2), 75))
    reading = classify(inputs, datetime(2021, 1, 1, tzinfo=UTC))
    assert any("WALCL last observation" in w for w in reading.warnings)
    assert any("rate state assumed unchanged" in w for w in reading.warnings)
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(inputs, datetime(2021, 1, 1))


def test_classify_warns_when_a_decision_has_no_outcome_anywhere() -> None:
    meeting = date(2020, 6, 10)
    blank = (decision(date(2020, 4, 29), "hold"), decision(meeting, None))
    short = rate_inputs({}, date(2020, 6, 1), decisions=blank)
    reading = classify(short, datetime(2020, 6, 20, tzinfo=UTC))
    assert any(
        w.startswith(f"FOMC {meeting}: outcome not in the calendar") for w in reading.warnings
    )
    assert not any("rate state assumed unchanged" in w for w in reading.warnings)
    covered = rate_inputs({}, date(2020, 6, 20), decisions=blank)
    reading = classify(covered, datetime(2020, 6, 20, 12, tzinfo=UTC))
    assert not any("outcome not in the calendar" in w for w in reading.warnings)


def test_classify_warns_when_series_keeps_disagreeing_with_announcement() -> None:
    levels = [4_000_000.0 * (1.004**i) for i in range(120)]  # +5 % a quarter: "qe"
    inputs = rate_inputs(
        {},
        date(2021, 4, 30),
        walcl=weekly(date(2019, 1, 2), levels),
        announcements=(announcement(date(2019, 6, 1), AnnouncementKind.RMP_START),),
    )
    reading = classify(inputs, datetime(2021, 4, 1, tzinfo=UTC))
    assert reading.balance_sheet is FLAT and reading.balance_sheet_series is QE
    assert any("disagreed" in w for w in reading.warnings)


def test_params_reject_hysteresis_without_a_gap() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        RegimeParams(bs_enter_change=0.01, bs_exit_change=0.01)


def test_shipped_announcements_load_sorted_with_known_kinds() -> None:
    rows = load_announcements()
    assert [a.effective for a in rows] == sorted(a.effective for a in rows)
    assert all(a.announced <= a.effective for a in rows)
    kinds = {(a.effective, a.kind) for a in rows}
    assert (date(2022, 6, 1), AnnouncementKind.QT_START) in kinds
    assert (date(2025, 12, 1), AnnouncementKind.QT_END) in kinds


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("date,kind\n", "header", id="wrong_header"),
        pytest.param(
            "date,announced,kind,date_precision,source\n2020-01-01,2020-01-01,qt_pause,exact,x\n",
            "unknown kind",
            id="unknown_kind",
        ),
        pytest.param(
            "date,announced,kind,date_precision,source\n2020-01-01,2020-02-01,qt_end,exact,x\n",
            "after effective",
            id="announced_after_effective",
        ),
    ],
)
def test_malformed_announcements_name_the_line(text: str, needle: str) -> None:
    with pytest.raises(AnnouncementFileError, match=needle):
        parse_announcements(text, source="ann.csv")
