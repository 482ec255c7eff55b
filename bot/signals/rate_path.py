"""Policy-rate changes from the target range, with the effective rate (DFF) as fallback. Pure.

DFEDTARU/DFEDTARL are dated by the day a change takes effect (the day after the FOMC
decision). Copies of them can end before the newest decision (the shipped copy ends on
2025-12-10, so the 2025-12-11 cut is only in DFF). After the last target observation the
effective rate is read instead: it trades a few basis points around the range, so a move counts
only when it is large enough (`dff_trigger`) and persists (`dff_confirm_obs` observations); it
is then rounded to whole `dff_step`s (25 bp) so that noise does not accumulate.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta

from bot.signals.fred import FredSeries
from bot.signals.regime_types import Rate, RateChange, RegimeInputs, RegimeParams


def target_levels(inputs: RegimeInputs) -> FredSeries | None:
    """The target midpoint where both limits exist, else the upper limit alone."""
    upper, lower = inputs.target_upper, inputs.target_lower
    if upper is None or len(upper) == 0:
        return None
    if lower is None or len(lower) == 0:
        return upper
    lows = dict(zip(lower.dates, lower.values, strict=True))
    values: list[float] = []
    for day, up in zip(upper.dates, upper.values, strict=True):
        low = lows.get(day)
        values.append(up if low is None else (up + low) / 2.0)
    return FredSeries("TARGET_MID", upper.dates, tuple(values), source=upper.source)


def rate_changes(inputs: RegimeInputs, params: RegimeParams) -> list[RateChange]:
    """Every policy-rate change in the inputs, ascending by effective date."""
    changes: list[RateChange] = []
    target = target_levels(inputs)
    if target is not None:
        for i in range(1, len(target)):
            before, after = target.values[i - 1], target.values[i]
            if abs(after - before) >= params.rate_min_step:
                changes.append(RateChange(target.dates[i], before, after, "target"))
    dff = inputs.effective_rate
    if dff is None or len(dff) == 0:
        return changes
    if target is not None and target.last_date is not None:
        start = target.last_date
        anchor_level = target.values[-1]
        anchor_dff = dff.value_at_or_before(start)
        if anchor_dff is None:
            return changes
        tail = dff.since(date.fromordinal(start.toordinal() + 1))
    else:
        anchor_level = anchor_dff = dff.values[0]
        tail = dff.since(date.fromordinal(dff.dates[0].toordinal() + 1))
    changes.extend(_dff_changes(tail, anchor_level, anchor_dff, params))
    return changes


def _dff_changes(
    tail: FredSeries, level: float, reference: float, params: RegimeParams
) -> list[RateChange]:
    changes: list[RateChange] = []
    values = tail.values
    i = 0
    while i < len(values):
        steps = _steps(values[i], reference, params)
        if steps == 0:
            i += 1
            continue
        window = values[i : i + params.dff_confirm_obs]
        confirmed = len(window) == params.dff_confirm_obs and all(
            _steps(v, reference, params) == steps for v in window
        )
        if not confirmed:
            i += 1
            continue
        delta = steps * params.dff_step
        changes.append(RateChange(tail.dates[i], level, level + delta, "dff"))
        level += delta
        reference += delta
        i += params.dff_confirm_obs
    return changes


def _steps(value: float, reference: float, params: RegimeParams) -> int:
    move = value - reference
    if abs(move) < params.dff_trigger:
        return 0
    return round(move / params.dff_step)


class RateTimeline:
    """Answers "hiking, cutting or holding on day d" from a list of changes."""

    def __init__(
        self, changes: list[RateChange], target: FredSeries | None, params: RegimeParams
    ) -> None:
        self._changes = changes
        self._dates = [c.date for c in changes]
        self._target = target
        self._window = params.rate_window_days

    def change_days(self) -> list[date]:
        """Every day `state` can answer differently from the day before: a change taking
        effect, or its window running out."""
        ends = {
            c.date + timedelta(days=min(self._window, (date.max - c.date).days))
            for c in self._changes
        }
        return sorted({c.date for c in self._changes} | ends)

    def last_change(self, day: date) -> RateChange | None:
        i = bisect.bisect_right(self._dates, day) - 1
        return self._changes[i] if i >= 0 else None

    def state(self, day: date) -> Rate:
        change = self.last_change(day)
        if change is None or (day - change.date).days >= self._window:
            return Rate.HOLDING
        return Rate.HIKING if change.delta > 0 else Rate.CUTTING

    def level(self, day: date) -> float | None:
        """Policy level on `day` (percent): target midpoint, or the DFF-implied level after it."""
        target = self._target
        last_target_day = target.last_date if target is not None else None
        if target is not None and last_target_day is not None and day <= last_target_day:
            return target.value_at_or_before(day)
        change = self.last_change(day)
        if change is not None and change.source == "dff":
            return change.after
        if target is not None and len(target) > 0:
            return target.values[-1]
        return None
