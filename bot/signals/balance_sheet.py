"""Balance-sheet state: announcements, and WALCL (trailing change with enter/exit hysteresis)
read at Fed actions. Pure."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta

from bot.signals.fed_announcements import BalanceSheet, FedAnnouncement
from bot.signals.fred import FredSeries
from bot.signals.regime_types import ActionKind, BalanceSheetOrigin, FedAction, RegimeParams


@dataclass(frozen=True)
class BalanceSheetReading:
    """State after the WALCL observation dated `date`; `change` is a fraction of the level."""

    date: date
    change: float
    state: BalanceSheet


def series_states(walcl: FredSeries, params: RegimeParams) -> list[BalanceSheetReading]:
    """Run the hysteresis machine over every observation that has a full trailing window.

    The window is measured in days (weeks * 7) against the last observation on or before the
    window start, so a missing week does not stretch the window.
    """
    readings: list[BalanceSheetReading] = []
    state = BalanceSheet.FLAT
    window = timedelta(weeks=params.bs_window_weeks)
    first = walcl.first_date
    if first is None:
        return readings
    for day, value in zip(walcl.dates, walcl.values, strict=True):
        if day - window < first:
            continue
        base = walcl.value_at_or_before(day - window)
        if base is None or base <= 0:
            continue
        change = value / base - 1.0
        state = next_state(state, change, params)
        readings.append(BalanceSheetReading(day, change, state))
    return readings


def next_state(state: BalanceSheet, change: float, params: RegimeParams) -> BalanceSheet:
    enter, exit_ = params.bs_enter_change, params.bs_exit_change
    if state is BalanceSheet.QT and change <= -exit_:
        return BalanceSheet.QT
    if state is BalanceSheet.QE and change >= exit_:
        return BalanceSheet.QE
    if change <= -enter:
        return BalanceSheet.QT
    if change >= enter:
        return BalanceSheet.QE
    return BalanceSheet.FLAT


class BalanceSheetTimeline:
    """Answers "what was the balance-sheet state on day d" from announcements and the series.

    The state changes only on the day of a Fed action (`anchors`: FOMC decisions, and every
    announcement's effective day). On such a day the announcement in force decides (when
    announcements are used and it is younger than the horizon); otherwise the WALCL state as
    published by then (`publication_lag_days` before the action) is taken, and holds until the
    next action. Before the first action on file the series decides alone, day by day: those
    changes are labelled as WALCL's (`cause`), not a Fed action's.
    """

    def __init__(
        self,
        readings: list[BalanceSheetReading],
        announcements: tuple[FedAnnouncement, ...],
        params: RegimeParams,
        fomc_actions: tuple[FedAction, ...] = (),
    ) -> None:
        self._reading_dates = [r.date for r in readings]
        self._readings = readings
        ordered = sorted(announcements, key=lambda a: (a.effective, a.announced))
        self._announcements = ordered
        self._ann_dates = [a.effective for a in ordered]
        self._params = params
        anchors = {a.day: a for a in fomc_actions}
        # On a day with both, the announcement dates a balance-sheet change better.
        anchors.update({a.effective: announcement_action(a) for a in ordered})
        self._anchors = anchors
        self._anchor_days = sorted(anchors)

    def change_days(self) -> list[date]:
        """Every day `state` can answer differently from the day before: a Fed action, or
        before the first one a series reading whose state differs from the previous one."""
        first_anchor = self._anchor_days[0] if self._anchor_days else date.max
        days = {
            r.date
            for i, r in enumerate(self._readings)
            if r.date < first_anchor and (i == 0 or r.state is not self._readings[i - 1].state)
        }
        days.update(self._anchor_days)
        return sorted(days)

    @property
    def first_series_date(self) -> date | None:
        return self._reading_dates[0] if self._reading_dates else None

    def series_state(self, day: date) -> BalanceSheet | None:
        i = bisect.bisect_right(self._reading_dates, day) - 1
        return self._readings[i].state if i >= 0 else None

    def announced_state(self, day: date) -> FedAnnouncement | None:
        """The announcement in force on `day`, if any and not older than the horizon."""
        i = bisect.bisect_right(self._ann_dates, day) - 1
        if i < 0:
            return None
        announcement = self._announcements[i]
        horizon = self._params.announcement_horizon_days
        if horizon is not None and (day - announcement.effective).days >= horizon:
            return None
        return announcement

    def divergence_days(self, day: date) -> int:
        """How long (days) the series has disagreed with the announcement in force on `day`."""
        announcement = self.announced_state(day)
        i = bisect.bisect_right(self._reading_dates, day) - 1
        if announcement is None or i < 0:
            return 0
        earliest: date | None = None
        while i >= 0 and self._readings[i].date >= announcement.effective:
            if self._readings[i].state is announcement.balance_sheet:
                break
            earliest = self._readings[i].date
            i -= 1
        return 0 if earliest is None else (day - earliest).days

    def _anchor(self, day: date) -> date | None:
        i = bisect.bisect_right(self._anchor_days, day) - 1
        return self._anchor_days[i] if i >= 0 else None

    def state(
        self, day: date, use_announcements: bool
    ) -> tuple[BalanceSheet | None, BalanceSheetOrigin]:
        """The state on `day` and which input gave it."""
        anchor = self._anchor(day)
        if anchor is None:
            series = self.series_state(day)
        else:
            if use_announcements:
                announcement = self.announced_state(anchor)
                if announcement is not None:
                    return announcement.balance_sheet, BalanceSheetOrigin.ANNOUNCEMENT
            lag = timedelta(days=self._params.publication_lag_days)
            series = self.series_state(anchor - lag)
        if series is None:
            return None, BalanceSheetOrigin.NONE
        return series, BalanceSheetOrigin.SERIES

    def cause(self, day: date, use_announcements: bool) -> tuple[FedAction, str]:
        """The action behind a change of state on `day`, and the evidence when the action
        did not announce it ("" when it did)."""
        anchor = self._anchor(day)
        if anchor != day:
            return FedAction(day, ActionKind.WALCL, "13-week change", "no Fed action on file"), ""
        action = self._anchors[day]
        if use_announcements and action.kind is ActionKind.ANNOUNCEMENT:
            announcement = self.announced_state(day)
            if announcement is not None and announcement.effective == day:
                return action, ""
        return action, _SERIES_RULE


_SERIES_RULE = "WALCL 13-week change"


def announcement_action(announcement: FedAnnouncement) -> FedAction:
    """An announcement as the Fed action dated by its effective day."""
    return FedAction(
        announcement.effective,
        ActionKind.ANNOUNCEMENT,
        announcement.kind.label,
        ""
        if announcement.announced == announcement.effective
        else f"announced {announcement.announced.isoformat()}",
    )
