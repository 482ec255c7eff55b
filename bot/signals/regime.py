"""Fed regime classifier: balance sheet x policy rate -> tightening / neutral / easing. Pure.

The regime changes only on the day of a Fed action - an FOMC decision (its day in New York)
or a balance-sheet announcement (the day it takes effect) - and every period and pivot names
the action that started it (`StateChange`, e.g. `FOMC 2024-09-18: cut 50 bp; rate hiking ->
cutting`). How the inputs combine (defaults in `RegimeParams`):

1. Rate (`rate_path`). The stance is the direction of the latest FOMC decision that changed
   the rate, kept through holds until a decision moves the other way; `holding` before the
   first. The calendar's outcomes come first; the target range (then DFF) fills a decision the
   calendar leaves blank, or dates a move the calendar does not hold.
2. Balance sheet (`balance_sheet`). With `announcements_then_series`, the announcement in
   force (effective on or before the day; until superseded by default) gives the state:
   qt_start/qt_taper -> qt, qe_start/qe_taper -> qe, qt_end/qe_end/rmp_* -> flat. Where no
   announcement is in force (after the horizon, with `series_only`, or none loaded) the WALCL
   rule decides - the 13-week change enters qt at <= -1 % and leaves it above -0.25 % (qe
   mirrors it) - but only as read on a Fed action's day: a change the series shows between
   two actions waits for the next one, which the cause names together with "per WALCL".
   Before the first action on file the series moves alone, labelled as WALCL's. The series
   alone lags (it sees QT2 from mid-2022 and calls the October 2019 bill purchases QE);
   `classify` warns when it keeps disagreeing with the announced state.
3. Regime. `CombineRule` (default `sum`: sign of qt/flat/qe = -1/0/+1 plus hiking/holding/
   cutting = -1/0/+1).

For point-in-time use (live, or a backtest that must not see data before it was published)
truncate the inputs with `known_at` first; `classify` does this itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from bot.signals.balance_sheet import BalanceSheetTimeline, series_states
from bot.signals.calendar import FomcDecision
from bot.signals.fed_announcements import BalanceSheet
from bot.signals.rate_path import RateMove, RateTimeline, rate_changes, rate_moves, target_levels
from bot.signals.regime_types import (
    ActionKind,
    BalanceSheetBasis,
    BalanceSheetOrigin,
    CombineRule,
    FedAction,
    Pivot,
    Rate,
    Regime,
    RegimeInputs,
    RegimeParams,
    RegimePeriod,
    RegimeReading,
    RegimeSource,
    Span,
    StateChange,
)

_BS_SCORE = {BalanceSheet.QT: -1, BalanceSheet.FLAT: 0, BalanceSheet.QE: 1}
_RATE_SCORE = {Rate.HIKING: -1, Rate.HOLDING: 0, Rate.CUTTING: 1}
_MAX_WALCL_AGE_DAYS = 14
_MAX_RATE_AGE_DAYS = 7


def combine(balance_sheet: BalanceSheet, rate: Rate, rule: CombineRule) -> Regime:
    """The regime for one (balance sheet, rate) pair under `rule` (see `CombineRule`)."""
    bs, rt = _BS_SCORE[balance_sheet], _RATE_SCORE[rate]
    if rule is CombineRule.SUM:
        score = bs + rt
    elif rule is CombineRule.RATE_FIRST:
        score = rt if rt != 0 else bs
    elif rule is CombineRule.BALANCE_SHEET_FIRST:
        score = bs if bs != 0 else rt
    else:  # ANY_TIGHTENING
        score = -1 if min(bs, rt) < 0 else max(bs, rt)
    if score < 0:
        return Regime.TIGHTENING
    if score > 0:
        return Regime.EASING
    return Regime.NEUTRAL


def regime_history(
    inputs: RegimeInputs, params: RegimeParams | None = None, through: date | None = None
) -> list[RegimePeriod]:
    """Consecutive periods of (regime, balance sheet, rate), oldest first, each with the
    changes (and the Fed actions behind them) that started it.

    Starts on the first day both the WALCL window and a policy rate are available (with
    the target range: its first date); ends on `through` (default: the last date any input
    covers; past the end of a series its last state carries on). Empty when the data do not
    overlap. The shipped announcements start with QE1 (2008-11-25); without them the WALCL
    rule reads the 2009-2012 unwinding of crisis facilities as brief "qt" spells.
    """
    params = params or RegimeParams()
    bs_line, rate_line = _timelines(inputs, params)
    start = _first_day(inputs, bs_line)
    end = through or _last_data_day(inputs, rate_line)
    if start is None or end is None or end < start:
        return []
    use_announcements = params.bs_basis is BalanceSheetBasis.ANNOUNCEMENTS_THEN_SERIES
    periods: list[RegimePeriod] = []
    current: tuple[Regime, BalanceSheet, Rate] | None = None
    current_start = start
    started_by: tuple[StateChange, ...] = ()
    # Both inputs are constant between their change days (Fed actions): looking only there
    # gives the day-by-day walk's periods (pinned by test_regime_history).
    changes = set(bs_line.change_days()) | set(rate_line.change_days())
    for day in [start, *sorted(d for d in changes if start < d <= end)]:
        balance_sheet, _ = bs_line.state(day, use_announcements)
        if balance_sheet is None:
            balance_sheet = BalanceSheet.FLAT
        rate = rate_line.state(day)
        key = (combine(balance_sheet, rate, params.rule), balance_sheet, rate)
        if key != current:
            if current is not None:
                periods.append(RegimePeriod(current_start, day, *current, started_by))
                started_by = _state_changes(
                    day, current, key, bs_line, rate_line, use_announcements
                )
            current, current_start = key, day
    if current is not None:
        periods.append(RegimePeriod(current_start, None, *current, started_by))
    return periods


def _state_changes(
    day: date,
    before: tuple[Regime, BalanceSheet, Rate],
    after: tuple[Regime, BalanceSheet, Rate],
    bs_line: BalanceSheetTimeline,
    rate_line: RateTimeline,
    use_announcements: bool,
) -> tuple[StateChange, ...]:
    found: list[StateChange] = []
    if before[2] is not after[2]:
        move = rate_line.last_move(day)
        if move is not None:  # the stance only changes at a move, dated `day`
            found.append(StateChange("rate", before[2], after[2], move.action))
    if before[1] is not after[1]:
        action, via = bs_line.cause(day, use_announcements)
        found.append(StateChange("balance sheet", before[1], after[1], action, via))
    return tuple(found)


def regime_at(history: Sequence[RegimePeriod], day: date) -> RegimePeriod | None:
    """The period containing `day`; the last period also covers any later day."""
    for period in reversed(history):
        if period.start <= day:
            return period
    return None


def pivots(history: Sequence[RegimePeriod]) -> list[Pivot]:
    """Every change of regime, with the Fed actions (and component changes) that caused it."""
    found: list[Pivot] = []
    for before, after in itertools.pairwise(history):
        if before.regime is after.regime:
            continue
        causes = tuple(change.label for change in after.changes)
        found.append(Pivot(after.start, before.regime, after.regime, causes, after.changes))
    return found


def spans(history: Sequence[RegimePeriod], attribute: str) -> list[Span]:
    """Merge consecutive periods with the same `regime`, `balance_sheet` or `rate`."""
    if attribute not in ("regime", "balance_sheet", "rate"):
        raise ValueError(f"unknown attribute {attribute!r}")
    merged: list[Span] = []
    for period in history:
        value = str(getattr(period, attribute))
        if merged and merged[-1].value == value:
            merged[-1] = Span(merged[-1].start, period.end, value)
        else:
            merged.append(Span(period.start, period.end, value))
    return merged


def known_at(
    inputs: RegimeInputs, as_of: date, params: RegimeParams, now: datetime | None = None
) -> RegimeInputs:
    """The inputs as they were known on `as_of` (publication lag; announcements once public).

    WALCL and DFF observations are published `publication_lag_days` after their date; the
    target range is known on its date (it is announced the day before it takes effect). An
    FOMC decision - its outcome, and for an unscheduled one the date itself - is known from
    its publication time: at `now` when given, else at the start of `as_of` (UTC), so that a
    day-by-day replay sees a 14:00 New York decision from the next day on.
    """
    lagged = as_of - timedelta(days=params.publication_lag_days)
    cutoff = now if now is not None else datetime.combine(as_of, time(0), tzinfo=UTC)
    return RegimeInputs(
        walcl=inputs.walcl.through(lagged),
        target_upper=None if inputs.target_upper is None else inputs.target_upper.through(as_of),
        target_lower=None if inputs.target_lower is None else inputs.target_lower.through(as_of),
        effective_rate=(
            None if inputs.effective_rate is None else inputs.effective_rate.through(lagged)
        ),
        announcements=tuple(a for a in inputs.announcements if a.announced <= as_of),
        decisions=tuple(d for d in inputs.decisions if d.at <= cutoff),
    )


def classify(
    inputs: RegimeInputs,
    now: datetime,
    params: RegimeParams | None = None,
    override: Regime | None = None,
) -> RegimeReading:
    """The regime at `now` from the data known then; a manual `override` wins and says so."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    params = params or RegimeParams()
    today = now.astimezone(UTC).date()
    visible = known_at(inputs, today, params, now)
    history = regime_history(visible, params, through=today)
    period = regime_at(history, today)
    bs_line, rate_line = _timelines(visible, params)
    use_announcements = params.bs_basis is BalanceSheetBasis.ANNOUNCEMENTS_THEN_SERIES
    balance_sheet, basis = bs_line.state(today, use_announcements)
    past_pivots = [p for p in pivots(history) if p.date <= today]
    upcoming = tuple(a for a in inputs.announcements if a.announced <= today < a.effective)
    data_regime = period.regime if period is not None else None
    rate_move = rate_line.last_move(today)
    warnings = _warnings(visible, today, period is None)
    warnings.extend(_decision_warnings(visible, rate_line, params))
    diverged = bs_line.divergence_days(today) if basis is BalanceSheetOrigin.ANNOUNCEMENT else 0
    if diverged >= params.divergence_warn_days:
        warnings.append(
            f"WALCL has disagreed with the announced balance-sheet state {balance_sheet} for "
            f"{diverged} days (series says {bs_line.series_state(today)}): check for a new "
            "Fed announcement"
        )
    if override is not None:
        regime, source = override, RegimeSource.OVERRIDE
        warnings.append(f"regime overridden to {override} (data says {data_regime})")
    elif data_regime is not None:
        regime, source = data_regime, RegimeSource.DATA
    else:
        regime, source = Regime.NEUTRAL, RegimeSource.DATA
        warnings.append("no regime could be computed: reporting neutral")
    return RegimeReading(
        as_of=now,
        regime=regime,
        source=source,
        data_regime=data_regime,
        balance_sheet=balance_sheet,
        balance_sheet_series=bs_line.series_state(today),
        balance_sheet_from=basis,
        rate=period.rate if period is not None else None,
        rate_set_by=rate_move.action if rate_move is not None else None,
        policy_rate=rate_line.level(today),
        since=period.start if period is not None else None,
        last_pivot=past_pivots[-1] if past_pivots else None,
        upcoming=upcoming,
        warnings=tuple(warnings),
    )


def _timelines(
    inputs: RegimeInputs, params: RegimeParams
) -> tuple[BalanceSheetTimeline, RateTimeline]:
    changes = rate_changes(inputs, params)
    moves = rate_moves(inputs, changes)
    rate_line = RateTimeline(moves, changes, target_levels(inputs))
    bs_line = BalanceSheetTimeline(
        series_states(inputs.walcl, params),
        inputs.announcements,
        params,
        _fomc_actions(inputs.decisions, moves),
    )
    return bs_line, rate_line


def _fomc_actions(
    decisions: tuple[FomcDecision, ...], moves: list[RateMove]
) -> tuple[FedAction, ...]:
    """Every FOMC decision on file as an action (a move's label when it changed the rate)."""
    actions = {
        d.day: FedAction(d.day, ActionKind.FOMC, d.decision or "outcome not on file")
        for d in decisions
    }
    actions.update({m.day: m.action for m in moves})
    return tuple(actions[day] for day in sorted(actions))


def _first_day(inputs: RegimeInputs, bs_line: BalanceSheetTimeline) -> date | None:
    """First day with a balance-sheet state and a policy rate.

    With a target range the history starts at its first date: DFF only extends it forward,
    because before 2008-12-16 the effective rate traded too far from the target to stand in.
    """
    first_bs = bs_line.first_series_date
    if first_bs is None and inputs.announcements:
        first_bs = inputs.announcements[0].effective
    target = inputs.target_upper
    if target is not None and target.first_date is not None:
        first_rate: date | None = target.first_date
    elif inputs.effective_rate is not None:
        first_rate = inputs.effective_rate.first_date
    else:
        first_rate = None
    if first_bs is None or first_rate is None:
        return None
    return max(first_bs, first_rate)


def _last_data_day(inputs: RegimeInputs, rate_line: RateTimeline) -> date | None:
    ends = [
        s.last_date
        for s in (inputs.walcl, inputs.target_upper, inputs.target_lower, inputs.effective_rate)
        if s is not None and s.last_date is not None
    ]
    ends.extend(rate_line.change_days()[-1:])
    return max(ends) if ends else None


def _decision_warnings(
    inputs: RegimeInputs, rate_line: RateTimeline, params: RegimeParams
) -> list[str]:
    """The latest decision known, when neither the calendar nor the rate data say its outcome."""
    if not inputs.decisions:
        return []
    latest = max(inputs.decisions, key=lambda d: d.at)
    move = rate_line.last_move(latest.day)
    if latest.decision is not None or (move is not None and move.day == latest.day):
        return []
    ends = [s.last_date for s in (inputs.target_upper, inputs.effective_rate) if s is not None]
    rate_end = max((d for d in ends if d is not None), default=None)
    # A change takes effect the next day; DFF needs its confirming observations too.
    settled = latest.day + timedelta(days=1 + params.dff_confirm_obs)
    if rate_end is not None and rate_end >= settled:
        return []
    seen = f"the rate data end {rate_end}" if rate_end is not None else "no rate data"
    return [
        f"FOMC {latest.day}: outcome not in the calendar and not yet in the rate data ({seen}):"
        " the rate stance assumes no change; add the outcome to the calendar"
    ]


def _warnings(inputs: RegimeInputs, today: date, empty: bool) -> list[str]:
    warnings: list[str] = []
    walcl_end = inputs.walcl.last_date
    if walcl_end is None:
        warnings.append("WALCL has no observations")
    elif (today - walcl_end).days > _MAX_WALCL_AGE_DAYS:
        age = (today - walcl_end).days
        warnings.append(f"WALCL last observation {walcl_end} is {age} days old")
    target_end = inputs.target_upper.last_date if inputs.target_upper is not None else None
    dff_end = inputs.effective_rate.last_date if inputs.effective_rate is not None else None
    rate_end = max((d for d in (target_end, dff_end) if d is not None), default=None)
    if rate_end is None:
        if not empty:
            warnings.append("no policy-rate series")
        return warnings
    dff_extends = target_end is not None and dff_end is not None and dff_end > target_end
    if dff_extends and target_end is not None and (today - target_end).days > _MAX_RATE_AGE_DAYS:
        warnings.append(f"target range ends {target_end}: policy rate implied from DFF")
    # With a calendar the stance is current up to its latest decision (`_decision_warnings`).
    if not inputs.decisions and (today - rate_end).days > _MAX_RATE_AGE_DAYS:
        warnings.append(f"policy-rate data end {rate_end}: rate state assumed unchanged since")
    return warnings
