"""The policy-rate stance from FOMC decisions. Pure.

The stance is the direction of the most recent FOMC decision that changed the rate: a hike
makes it `hiking`, a cut `cutting`, and it stays so through `hold` decisions until a decision
moves the rate the other way. Before the first move in the data it is `holding`. So the stance
changes only on the day of an FOMC decision.

Why a hold keeps the stance: it leaves the rate where the last move put it, so policy is as
tight (or as easy) as that move made it, and on the day nobody can tell a pause inside a cycle
(three holds between the 2017 hikes, five between the December 2024 and September 2025 cuts)
from the end of one; only the next move does. The rule this replaces read hiking/cutting for
190 days after a change and then holding, which turned the regime on days the Fed did nothing
(2025-06-27, 2026-06-19). A hold changes nothing, so no setting is needed for it.

Where the moves come from, most authoritative first:

1. The FOMC calendar (`RegimeInputs.decisions`): a decision whose outcome is hike or cut.
2. A decision whose outcome the calendar leaves blank takes the target-range change that
   takes effect within `MATCH_DAYS` of it (DFEDTARU/L, or after their last date the effective
   rate DFF, see below); the label says so.
3. A target/DFF change with no calendar decision in the `MATCH_DAYS` before it (before the
   calendar starts, or without a calendar) is still an FOMC move - only the FOMC sets the
   range - dated the day before it took effect (range decisions take effect the next day;
   FRED dates the 2015 and 2016 hikes on the decision day itself, so without a calendar
   those two land a day early) and labelled as not in the calendar.

A calendar outcome wins over the series. Moves are dated by the decision day; point-in-time
use (`regime.known_at`) hides a decision until it is published and a DFF-inferred move until
its confirming observations are.

DFEDTARU/DFEDTARL are dated by the day a change takes effect (the day after the FOMC
decision). Copies of them can end before the newest decision (the shipped copy ends on
2025-12-10, so the 2025-12-11 cut is only in DFF). After the last target observation the
effective rate is read instead: it trades a few basis points around the range, so a move counts
only when it is large enough (`dff_trigger`) and persists (`dff_confirm_obs` observations); it
is then rounded to whole `dff_step`s (25 bp) so that noise does not accumulate.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta

from bot.signals.calendar import FomcDecision
from bot.signals.fred import FredSeries
from bot.signals.regime_types import (
    ActionKind,
    FedAction,
    Rate,
    RateChange,
    RegimeInputs,
    RegimeParams,
)

# A range change takes effect the day after its decision (two days at most, around a
# weekend); a DFF-implied change is seen a few observations later. A week covers both and is
# far shorter than the five weeks or more between two decisions.
MATCH_DAYS = 7
_SERIES_NAMES = {"target": "target range", "dff": "DFF"}


@dataclass(frozen=True)
class RateMove:
    """An FOMC decision that changed the rate; `change_bps` None when the file omits it."""

    action: FedAction
    stance: Rate
    change_bps: int | None

    @property
    def day(self) -> date:
        return self.action.day


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


def rate_moves(inputs: RegimeInputs, changes: list[RateChange]) -> list[RateMove]:
    """Every rate-changing FOMC decision in the inputs, ascending by day (see the module)."""
    decisions = sorted(inputs.decisions, key=lambda d: d.at)
    days = [d.day for d in decisions]
    moves: list[RateMove] = [_calendar_move(d) for d in decisions if d.decision in ("hike", "cut")]
    inferred: dict[date, tuple[int, str]] = {}
    for change in changes:
        i = bisect.bisect_right(days, change.date) - 1
        decision = decisions[i] if i >= 0 else None
        if decision is not None and (change.date - decision.day).days > MATCH_DAYS:
            decision = None
        if decision is not None and decision.decision is not None:
            continue  # the calendar records this decision: its outcome wins
        series = _SERIES_NAMES.get(change.source, change.source)
        if decision is not None:
            day, note = decision.day, f"{series}; no outcome in the calendar"
        else:
            day, note = change.date - timedelta(days=1), f"{series}; not in the calendar"
        bps, _ = inferred.get(day, (0, note))
        inferred[day] = (bps + round(change.delta * 100), note)
    for day, (bps, note) in inferred.items():
        if bps != 0:
            word = "hike" if bps > 0 else "cut"
            action = FedAction(day, ActionKind.FOMC, f"{word} {abs(bps)} bp", note)
            moves.append(RateMove(action, _stance(word), bps))
    return sorted(moves, key=lambda m: m.day)


def _calendar_move(decision: FomcDecision) -> RateMove:
    word = decision.decision or ""
    bps = decision.change_bps
    what = f"{word} {abs(bps)} bp" if bps else word
    return RateMove(FedAction(decision.day, ActionKind.FOMC, what), _stance(word), bps)


def _stance(word: str) -> Rate:
    return Rate.HIKING if word == "hike" else Rate.CUTTING


class RateTimeline:
    """Answers "hiking, cutting or holding on day d" from the rate-changing FOMC decisions."""

    def __init__(
        self, moves: list[RateMove], changes: list[RateChange], target: FredSeries | None
    ) -> None:
        self._moves = moves
        self._days = [m.day for m in moves]
        self._changes = changes
        self._change_dates = [c.date for c in changes]
        self._target = target

    def change_days(self) -> list[date]:
        """Every day `state` can answer differently from the day before: an FOMC move."""
        return sorted(set(self._days))

    def last_move(self, day: date) -> RateMove | None:
        """The latest rate-changing decision dated on or before `day`."""
        i = bisect.bisect_right(self._days, day) - 1
        return self._moves[i] if i >= 0 else None

    def state(self, day: date) -> Rate:
        move = self.last_move(day)
        return Rate.HOLDING if move is None else move.stance

    def _last_change(self, day: date) -> RateChange | None:
        i = bisect.bisect_right(self._change_dates, day) - 1
        return self._changes[i] if i >= 0 else None

    def level(self, day: date) -> float | None:
        """Policy level on `day` (percent): target midpoint, or the DFF-implied level after it."""
        target = self._target
        last_target_day = target.last_date if target is not None else None
        if target is not None and last_target_day is not None and day <= last_target_day:
            return target.value_at_or_before(day)
        change = self._last_change(day)
        if change is not None and change.source == "dff":
            return change.after
        if target is not None and len(target) > 0:
            return target.values[-1]
        return None
