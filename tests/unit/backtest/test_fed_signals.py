"""The point-in-time regime shortcut equals the known-at computation (shipped Fed data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.backtest.fed_signals import SETTLE_DAYS, PointInTimeRegime, recorded_signals
from bot.feeds.fed_inputs import shipped_inputs
from bot.signals.calendar import load_fomc_calendar
from bot.signals.flush import FlushParams
from bot.signals.liquidation_history import load_shipped_liquidation_bars
from bot.signals.regime import classify
from bot.signals.regime_types import RegimeInputs


def fed_inputs() -> RegimeInputs:
    """The shipped series, announcements and FOMC calendar, as a backtest reads them."""
    return shipped_inputs().with_decisions(load_fomc_calendar().decisions)


@pytest.fixture(scope="module")
def regimes() -> PointInTimeRegime:
    return PointInTimeRegime(fed_inputs())


def test_shortcut_days_match_the_known_at_history(regimes: PointInTimeRegime) -> None:
    boundaries = [p.start for p in regimes.hindsight[1:]]
    assert len(boundaries) >= 5
    checked = 0
    for boundary in boundaries:
        for offset in (-3, -1, SETTLE_DAYS + 2, SETTLE_DAYS + 9):
            day = boundary + timedelta(days=offset)
            before = regimes.exact_days
            fast = regimes.view(day)
            if regimes.exact_days == before:  # answered by the shortcut
                checked += 1
                assert fast == regimes.exact(day), day
    assert checked >= 20


def test_regime_matches_classify_on_the_day(regimes: PointInTimeRegime) -> None:
    now = datetime(2024, 10, 15, 12, tzinfo=UTC)
    reading = classify(fed_inputs(), now)
    view = regimes.view(now.date())
    assert view is not None and view.regime == reading.regime.value
    assert reading.since is not None and view.since.date() == reading.since


def test_flush_is_active_for_its_cool_down_after_the_window_that_fired_it() -> None:
    bars = load_shipped_liquidation_bars("BTC", "1d")
    signals = recorded_signals(shipped_inputs(), bars)
    flushes = signals.flushes
    assert flushes, "the shipped sample holds at least one flush"
    first = flushes[0]
    cooldown = FlushParams().cooldown
    assert signals.flush("BTC/USDT", first.time - timedelta(seconds=1)) is None
    view = signals.flush("SOL/USDT", first.time)  # a flush is market-wide: every plan
    assert view is not None and view.at == first.time and view.symbol == "SOL/USDT"
    later = signals.flush("BTC/USDT", first.time + cooldown)
    assert later is None or later.at > first.time


def test_next_change_is_never_after_a_change_of_the_regime_or_the_flush() -> None:
    """The replay skips job runs before `next_change`: every answer up to it must be the
    one given at the asking time (checked day by day over 2019-2024 with shipped data)."""
    bars = load_shipped_liquidation_bars("BTC", "1d")
    signals = recorded_signals(fed_inputs(), bars, load_fomc_calendar())
    now = datetime(2019, 1, 1, tzinfo=UTC)
    changes = 0
    while now < datetime(2025, 1, 1, tzinfo=UTC):
        change = signals.next_change(now)
        assert change > now
        regime, flush = signals.regime(now), signals.flush("BTC/USDT", now)
        probe = now + timedelta(hours=6)
        while probe < change:
            assert signals.regime(probe) == regime, (now, probe)
            assert signals.flush("BTC/USDT", probe) == flush, (now, probe)
            probe += timedelta(hours=6)
        changes += signals.regime(change) != regime or signals.flush("BTC/USDT", change) != flush
        now = change
    assert changes >= 10
