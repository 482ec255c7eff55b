"""Types of the Fed regime classifier: states, parameters, inputs and results."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from bot.signals.calendar import FomcDecision
from bot.signals.fed_announcements import BalanceSheet, FedAnnouncement
from bot.signals.fred import FredSeries

__all__ = [
    "ActionKind",
    "BalanceSheet",
    "BalanceSheetBasis",
    "BalanceSheetOrigin",
    "CombineRule",
    "FedAction",
    "Pivot",
    "Rate",
    "RateChange",
    "Regime",
    "RegimeInputs",
    "RegimeParams",
    "RegimePeriod",
    "RegimeReading",
    "RegimeSource",
    "Span",
    "StateChange",
]


class Rate(StrEnum):
    """Policy-rate stance: the direction of the last FOMC decision that changed the rate
    (`holding` until the data show one; see `rate_path`)."""

    HIKING = "hiking"
    CUTTING = "cutting"
    HOLDING = "holding"


class Regime(StrEnum):
    TIGHTENING = "tightening"
    NEUTRAL = "neutral"
    EASING = "easing"


_EASING_RANK = {Regime.TIGHTENING: 0, Regime.NEUTRAL: 1, Regime.EASING: 2}


def toward_easing(before: Regime | str, after: Regime | str) -> bool:
    """A move toward easing (tightening -> neutral/easing, neutral -> easing): a pivot."""
    return _EASING_RANK[Regime(after)] > _EASING_RANK[Regime(before)]


class CombineRule(StrEnum):
    """How the balance-sheet and rate states combine into one regime.

    Scores: qt = -1, flat = 0, qe = +1; hiking = -1, holding = 0, cutting = +1.

    - `sum` (default): the sign of the two scores added. QT while cutting is neutral; QT while
      holding is tightening; the end of QT while cutting turns easing.
    - `rate_first`: the rate state decides; while holding, the balance sheet decides.
    - `balance_sheet_first`: the balance sheet decides; while flat, the rate state decides.
    - `any_tightening`: tightening if either side tightens; easing if one eases and neither
      tightens; otherwise neutral (the most cautious rule).
    """

    SUM = "sum"
    RATE_FIRST = "rate_first"
    BALANCE_SHEET_FIRST = "balance_sheet_first"
    ANY_TIGHTENING = "any_tightening"


class BalanceSheetBasis(StrEnum):
    """Where the balance-sheet state comes from.

    - `announcements_then_series` (default): the latest Fed announcement in force (effective on
      or before the day; younger than `announcement_horizon_days` when that is set) decides;
      the WALCL series decides before the first announcement, after the horizon, or with no
      announcements loaded. `classify` warns when the series has disagreed with the
      announced state for `divergence_warn_days` (the file may need a new row).
    - `series_only`: the WALCL trailing change with hysteresis alone.
    """

    ANNOUNCEMENTS_THEN_SERIES = "announcements_then_series"
    SERIES_ONLY = "series_only"


class BalanceSheetOrigin(StrEnum):
    """Which input gave the balance-sheet state of a reading."""

    ANNOUNCEMENT = "announcement"
    SERIES = "series"
    NONE = "none"


class RegimeSource(StrEnum):
    DATA = "data"
    OVERRIDE = "override"


@dataclass(frozen=True)
class RegimeParams:
    """Classifier settings. Changes are fractions (0.01 = 1 %); rates in percentage points.

    Balance sheet (WALCL, weekly): the change over `bs_window_weeks` as a fraction of the level
    at the start of the window. Enter `qt` at a change <= -`bs_enter_change`, leave it when the
    change rises above -`bs_exit_change`; `qe` mirrors this. The gap between enter and exit is
    the hysteresis that keeps weekly noise from flipping the state.

    Rate: a change of the target range (midpoint; or the upper limit alone) of at least
    `rate_min_step` points is an FOMC move when no decision in the calendar records it (see
    `rate_path` for the stance rule, which has no window: it changes only at FOMC decisions).

    Announcements: by default they hold until superseded. A finite horizon hands the state
    back to the series after that many days, which protects against a stale file but inherits
    the series' noise (with 365 days, QT2 would show a two-week "qe" in June 2023, the echo of
    the March 2023 bank-term-funding loans).

    DFF fallback (dates after the last target-range observation): an effective-rate move of at
    least `dff_trigger` points from the reference level, held for `dff_confirm_obs`
    consecutive observations, counts as a target change rounded to `dff_step` points.
    """

    bs_window_weeks: int = 13
    bs_enter_change: float = 0.01
    bs_exit_change: float = 0.0025
    bs_basis: BalanceSheetBasis = BalanceSheetBasis.ANNOUNCEMENTS_THEN_SERIES
    announcement_horizon_days: int | None = None
    divergence_warn_days: int = 182
    rate_min_step: float = 0.125
    dff_step: float = 0.25
    dff_trigger: float = 0.15
    dff_confirm_obs: int = 2
    publication_lag_days: int = 1
    rule: CombineRule = CombineRule.SUM

    def __post_init__(self) -> None:
        if self.bs_window_weeks < 1:
            raise ValueError("bs_window_weeks must be >= 1")
        if not 0 <= self.bs_exit_change < self.bs_enter_change:
            raise ValueError("need 0 <= bs_exit_change < bs_enter_change (hysteresis)")
        if self.announcement_horizon_days is not None and self.announcement_horizon_days < 1:
            raise ValueError("announcement_horizon_days must be >= 1 or None")
        if self.rate_min_step <= 0 or self.dff_step <= 0 or self.dff_trigger <= 0:
            raise ValueError("rate steps and triggers must be positive")
        if self.dff_confirm_obs < 1:
            raise ValueError("dff_confirm_obs must be >= 1")
        if self.publication_lag_days < 0:
            raise ValueError("publication_lag_days must be >= 0")


@dataclass(frozen=True)
class RegimeInputs:
    """Data the classifier reads. Series keep FRED units (WALCL millions USD, rates %)."""

    walcl: FredSeries
    target_upper: FredSeries | None = None
    target_lower: FredSeries | None = None
    effective_rate: FredSeries | None = None
    announcements: tuple[FedAnnouncement, ...] = ()
    # FOMC decisions (the calendar): dated by their publication time, outcome blank when the
    # file does not record it. Without them rate moves are read from the target range alone.
    decisions: tuple[FomcDecision, ...] = ()

    def with_decisions(self, decisions: tuple[FomcDecision, ...]) -> RegimeInputs:
        """These inputs with the FOMC decisions of a calendar."""
        return replace(self, decisions=decisions)


@dataclass(frozen=True)
class RateChange:
    """A policy-rate change seen in the data, effective on `date` (percent, target midpoint
    or DFF-implied). `rate_path` attributes it to the FOMC decision that made it."""

    date: date
    before: float
    after: float
    source: str  # "target" (DFEDTARU/L) or "dff" (implied from the effective rate)

    @property
    def delta(self) -> float:
        return self.after - self.before


class ActionKind(StrEnum):
    """What moved a component of the regime."""

    FOMC = "fomc"  # an FOMC decision, dated by its day in New York
    ANNOUNCEMENT = "announcement"  # a balance-sheet announcement, dated when it takes effect
    WALCL = "walcl"  # the balance-sheet series alone, with no Fed action on file to date it


@dataclass(frozen=True)
class FedAction:
    """A Fed action that can move the regime, e.g. `FOMC 2024-09-18: cut 50 bp`. Labels use
    no square brackets: the thesis table prints them through rich, which reads those as markup.

    `note` says where the action was read from when that is not the FOMC calendar or the
    announcements file (a move seen only in the target range or DFF), or when it was made
    public (an announcement's statement date).
    """

    day: date
    kind: ActionKind
    what: str
    note: str = ""

    @property
    def label(self) -> str:
        name = {
            ActionKind.FOMC: "FOMC",
            ActionKind.ANNOUNCEMENT: "announcement",
            ActionKind.WALCL: "WALCL",
        }[self.kind]
        text = f"{name} {self.day.isoformat()}: {self.what}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class StateChange:
    """One component of the regime (`rate` or `balance sheet`) changed by `action`, e.g.
    `FOMC 2024-09-18: cut 50 bp; rate hiking -> cutting`.

    `via` names the evidence when it is not the action itself: a balance-sheet state read from
    WALCL takes effect only at a Fed action, which dates it but did not announce it.
    """

    component: str
    before: str
    after: str
    action: FedAction
    via: str = ""

    @property
    def label(self) -> str:
        via = f" per {self.via}" if self.via else ""
        return f"{self.action.label}; {self.component} {self.before} -> {self.after}{via}"


@dataclass(frozen=True)
class RegimePeriod:
    """Days with one (regime, balance sheet, rate) combination: [start, end), end exclusive.

    `end` is the first day of the next period, or None for the period still running at the
    end of the data. `changes` are what started the period (empty for the first one).
    """

    start: date
    end: date | None
    regime: Regime
    balance_sheet: BalanceSheet
    rate: Rate
    changes: tuple[StateChange, ...] = ()


@dataclass(frozen=True)
class Pivot:
    """A change of regime on `date`: `causes` label the Fed actions that caused it
    (`changes` holds them as data)."""

    date: date
    from_regime: Regime
    to_regime: Regime
    causes: tuple[str, ...]
    changes: tuple[StateChange, ...] = ()


@dataclass(frozen=True)
class Span:
    """A run of equal values of one attribute across consecutive periods: [start, end)."""

    start: date
    end: date | None
    value: str


@dataclass(frozen=True)
class RegimeReading:
    """The regime at `as_of`, with where it came from and what the data alone said."""

    as_of: datetime
    regime: Regime
    source: RegimeSource
    data_regime: Regime | None
    balance_sheet: BalanceSheet | None
    balance_sheet_series: BalanceSheet | None
    balance_sheet_from: BalanceSheetOrigin
    rate: Rate | None
    rate_set_by: FedAction | None
    policy_rate: float | None
    since: date | None
    last_pivot: Pivot | None
    upcoming: tuple[FedAnnouncement, ...]
    warnings: tuple[str, ...]
