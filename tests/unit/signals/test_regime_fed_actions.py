"""The regime changes only on the day of a Fed action, names that action, and sees a decision
only once it is published - on the real data (shared copy, and the shipped copy CI has)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.backtest.fed_signals import PointInTimeRegime
from bot.signals.regime import classify, known_at, pivots, regime_at, regime_history
from bot.signals.regime_types import (
    ActionKind,
    BalanceSheetBasis,
    CombineRule,
    Rate,
    Regime,
    RegimeInputs,
    RegimeParams,
    RegimePeriod,
)
from tests.unit.signals.test_regime_history import SOURCES, shared_inputs, shipped_with_calendar

VARIANTS = [
    pytest.param(RegimeParams(), id="defaults"),
    pytest.param(RegimeParams(bs_basis=BalanceSheetBasis.SERIES_ONLY), id="series_only"),
    pytest.param(RegimeParams(announcement_horizon_days=120), id="announcement_horizon"),
    pytest.param(RegimeParams(rule=CombineRule.ANY_TIGHTENING), id="any_tightening"),
]


def fed_action_days(inputs: RegimeInputs) -> tuple[set[date], set[date]]:
    """FOMC decision days (New York) and announcement effective days, read from the files."""
    return {d.day for d in inputs.decisions}, {a.effective for a in inputs.announcements}


def at(history: list[RegimePeriod], day: date) -> RegimePeriod:
    period = regime_at(history, day)
    assert period is not None
    return period


@pytest.mark.parametrize("load", SOURCES)
@pytest.mark.parametrize("params", VARIANTS)
def test_every_change_falls_on_a_fed_action_and_names_it(
    load: Callable[[], RegimeInputs], params: RegimeParams
) -> None:
    inputs = load()
    fomc_days, announcement_days = fed_action_days(inputs)
    history = regime_history(inputs, params)
    since_2019 = [p for p in history[1:] if p.start >= date(2019, 1, 1)]
    assert len(since_2019) >= 5
    for period in since_2019:
        assert period.start in fomc_days | announcement_days, period
        assert period.changes, f"{period.start}: no cause"
        for change in period.changes:
            action = change.action
            assert action.day == period.start
            if action.kind is ActionKind.FOMC:
                assert action.day in fomc_days
                assert "not in the calendar" not in action.note
            else:
                assert action.kind is ActionKind.ANNOUNCEMENT, change.label
                assert action.day in announcement_days
    for pivot in pivots(history):
        if pivot.date < date(2019, 1, 1):
            continue
        assert pivot.causes, pivot
        for cause in pivot.causes:
            assert cause.startswith((f"FOMC {pivot.date}: ", f"announcement {pivot.date}: "))


@pytest.mark.parametrize("load", SOURCES)
def test_no_pivot_when_the_old_rate_window_ran_out(load: Callable[[], RegimeInputs]) -> None:
    """The 190-day window turned the regime on 2025-06-27 (190 days after the December 2024
    cut took effect) and 2026-06-19 (after the December 2025 cut), days without any Fed
    action. The stance now stays cutting through the 2025 and 2026 holds."""
    history = regime_history(load())
    in_2025_26 = [p.date for p in pivots(history) if p.date >= date(2025, 1, 1)]
    assert in_2025_26 == [date(2025, 12, 1)]  # QT ends: the only Fed-made turn
    assert at(history, date(2025, 6, 27)).regime is Regime.NEUTRAL
    assert at(history, date(2025, 6, 27)).start == date(2024, 9, 18)
    late = at(history, date(2026, 6, 19))
    assert (late.regime, late.rate, late.start) == (Regime.EASING, Rate.CUTTING, date(2025, 12, 1))
    reading = classify(load(), datetime(2026, 8, 1, 12, tzinfo=UTC))
    assert reading.regime is Regime.EASING and reading.since == date(2025, 12, 1)
    assert reading.rate_set_by is not None
    assert reading.rate_set_by.label.startswith("FOMC 2025-12-10: cut 25 bp")


def test_a_decision_is_not_seen_before_it_is_published() -> None:
    inputs = shared_inputs()
    # FOMC 2024-09-18: 14:00 New York (summer time) = 18:00 UTC; the range moves on the 19th
    before = classify(inputs, datetime(2024, 9, 18, 17, 59, tzinfo=UTC))
    after = classify(inputs, datetime(2024, 9, 18, 18, 0, tzinfo=UTC))
    assert (before.regime, before.rate) == (Regime.TIGHTENING, Rate.HIKING)
    assert before.rate_set_by is not None
    assert before.rate_set_by.label == "FOMC 2023-07-26: hike 25 bp"
    assert (after.regime, after.rate, after.since) == (
        Regime.NEUTRAL,
        Rate.CUTTING,
        date(2024, 9, 18),
    )
    assert after.last_pivot is not None
    assert after.last_pivot.causes == ("FOMC 2024-09-18: cut 50 bp; rate hiking -> cutting",)

    # a day-by-day replay sees it from the next day on
    params = RegimeParams()
    day_of = {d.day for d in known_at(inputs, date(2024, 9, 18), params).decisions}
    day_after = {d.day for d in known_at(inputs, date(2024, 9, 19), params).decisions}
    assert date(2024, 9, 18) not in day_of and date(2024, 9, 18) in day_after
    # the unscheduled Sunday decision of 2020-03-15 (17:00 New York = 21:00 UTC in the
    # shipped calendar) is not even a date before it is published
    shipped = shipped_with_calendar()
    sunday = datetime(2020, 3, 15, 20, 59, tzinfo=UTC)
    visible = known_at(shipped, sunday.date(), params, sunday).decisions
    assert max(d.day for d in visible) == date(2020, 3, 3)
    labels = [
        getattr(classify(shipped, now).rate_set_by, "label", None)
        for now in (sunday, sunday + timedelta(minutes=1))
    ]
    assert labels == ["FOMC 2020-03-03: cut 50 bp", "FOMC 2020-03-15: cut 100 bp"]

    replay = PointInTimeRegime(inputs)
    on_the_day, next_day = replay.view(date(2024, 9, 18)), replay.view(date(2024, 9, 19))
    assert on_the_day is not None and on_the_day.regime == "tightening"
    assert next_day is not None and next_day.regime == "neutral"
    assert next_day.since == datetime(2024, 9, 18, tzinfo=UTC)


def test_the_known_at_history_does_not_change_with_later_decisions() -> None:
    """No look-ahead: on every day around each decision since 2019, dropping the decisions
    published later leaves the regime history as known that day unchanged."""
    inputs = shared_inputs()
    params = RegimeParams()
    decision_days = sorted({d.day for d in inputs.decisions if d.day >= date(2019, 1, 1)})
    checked = 0
    for decision_day in decision_days:
        for offset in (0, 1, 3):
            day = decision_day + timedelta(days=offset)
            start = datetime.combine(day, time(0), tzinfo=UTC)
            earlier = inputs.with_decisions(tuple(d for d in inputs.decisions if d.at < start))
            assert regime_history(known_at(inputs, day, params), params, day) == regime_history(
                known_at(earlier, day, params), params, day
            ), day
            checked += 1
    assert checked >= 150
