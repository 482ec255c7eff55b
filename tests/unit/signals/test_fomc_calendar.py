"""FOMC calendar: decision times in UTC across DST, next decision, blackout window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.signals.calendar import (
    CalendarFileError,
    FomcCalendar,
    load_fomc_calendar,
    parse_fomc_calendar,
)
from tests.unit.signals.data_paths import shared_file


@pytest.fixture(scope="module")
def calendar() -> FomcCalendar:
    return load_fomc_calendar()


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        pytest.param("2025-12-10", 19, id="winter_est_19utc"),
        pytest.param("2025-07-30", 18, id="summer_edt_18utc"),
        pytest.param("2026-03-18", 18, id="after_march_dst_switch"),
        pytest.param("2026-10-28", 18, id="before_november_dst_switch"),
        pytest.param("2020-03-03", 15, id="unscheduled_10am_est"),
        pytest.param("2020-03-15", 21, id="unscheduled_sunday_5pm_edt"),
    ],
)
def test_decisions_are_at_new_york_time_in_utc(
    calendar: FomcCalendar, day: str, utc_hour: int
) -> None:
    matches = [d for d in calendar.decisions if d.day.isoformat() == day]
    assert len(matches) == 1
    assert matches[0].at.tzinfo is UTC
    assert (matches[0].at.hour, matches[0].at.minute) == (utc_hour, 0)


def test_shipped_calendar_covers_2017_to_2026(calendar: FomcCalendar) -> None:
    years = {d.day.year for d in calendar.decisions}
    assert set(range(2017, 2027)) <= years
    assert calendar.last_decision is not None
    assert calendar.last_decision.day.isoformat() == "2026-12-09"
    december = next(d for d in calendar.decisions if d.day.isoformat() == "2025-12-10")
    assert (december.decision, december.change_bps) == ("cut", -25)


def test_shipped_calendar_dates_match_the_shared_source(calendar: FomcCalendar) -> None:
    text = shared_file("fomc_decisions.csv").read_text()
    shared_days = [line.split(",")[0] for line in text.splitlines()[1:] if line]
    assert [d.day.isoformat() for d in calendar.decisions] == shared_days


def test_next_decision_and_hours_until(calendar: FomcCalendar) -> None:
    now = datetime(2025, 12, 9, 19, 0, tzinfo=UTC)
    nxt = calendar.next_decision(now)
    assert nxt is not None and nxt.at == datetime(2025, 12, 10, 19, 0, tzinfo=UTC)
    assert calendar.hours_until_next_decision(now) == pytest.approx(24.0)
    at_decision = calendar.next_decision(nxt.at)
    assert at_decision is not None and at_decision.day.isoformat() == "2026-01-28"


def test_past_the_end_of_the_calendar_there_is_no_next_decision(calendar: FomcCalendar) -> None:
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert calendar.next_decision(later) is None
    assert calendar.hours_until_next_decision(later) is None
    assert calendar.in_blackout(later, hours_before=48) is False


@pytest.mark.parametrize(
    ("offset", "hours_before", "hours_after", "expected"),
    [
        pytest.param(timedelta(hours=-24), 24, 0, False, id="exactly_n_hours_before_is_outside"),
        pytest.param(timedelta(hours=-23, minutes=-59), 24, 0, True, id="just_inside"),
        pytest.param(timedelta(0), 24, 0, True, id="at_the_decision"),
        pytest.param(timedelta(minutes=1), 24, 0, False, id="after_without_hours_after"),
        pytest.param(timedelta(hours=1), 24, 2, True, id="inside_hours_after"),
        pytest.param(timedelta(hours=2), 24, 2, False, id="hours_after_elapsed"),
    ],
)
def test_blackout_window_edges(
    calendar: FomcCalendar,
    offset: timedelta,
    hours_before: float,
    hours_after: float,
    expected: bool,
) -> None:
    decision = datetime(2025, 10, 29, 18, 0, tzinfo=UTC)
    assert calendar.in_blackout(decision + offset, hours_before, hours_after) is expected


def test_blackout_spanning_a_dst_change_counts_real_hours() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; a decision at 14:00 EDT on 2026-03-09 is 18:00 UTC
    text = "date,meeting_start,type\n2026-03-09,2026-03-08,unscheduled\n"
    calendar = parse_fomc_calendar(text)
    decision = calendar.decisions[0].at
    assert decision == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    assert calendar.in_blackout(decision - timedelta(hours=47, minutes=59), 48)
    assert not calendar.in_blackout(decision - timedelta(hours=48), 48)


def test_naive_now_is_rejected(calendar: FomcCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.next_decision(datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("day,type\n", "missing column", id="missing_columns"),
        pytest.param(
            "date,meeting_start,type\n2025-13-01,2025-12-01,scheduled\n", "line 2", id="bad_date"
        ),
        pytest.param(
            "date,meeting_start,type\n2025-12-01,2025-11-30,emergency\n", "type must", id="bad_type"
        ),
        pytest.param(
            "date,meeting_start,type\n2025-12-01,2025-11-30,scheduled\n"
            "2025-12-01,2025-11-30,scheduled\n",
            "duplicate",
            id="duplicate_decision",
        ),
    ],
)
def test_malformed_calendar_names_the_problem(text: str, needle: str) -> None:
    with pytest.raises(CalendarFileError, match=needle):
        parse_fomc_calendar(text, source="cal.csv")


def test_override_path_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "fomc.csv"
    path.write_text("date,time_et,meeting_start,type\n2027-01-27,14:00,2027-01-26,scheduled\n")
    calendar = load_fomc_calendar(path)
    assert [d.at for d in calendar.decisions] == [datetime(2027, 1, 27, 19, 0, tzinfo=UTC)]
