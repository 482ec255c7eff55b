"""Types of the Fed regime classifier: states, parameters, inputs and results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.signals.fed_announcements import BalanceSheet, FedAnnouncement
from bot.signals.fred import FredSeries

__all__ = [
    "BalanceSheet",
    "BalanceSheetBasis",
    "BalanceSheetOrigin",
    "CombineRule",
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
]


class Rate(StrEnum):
    """Policy-rate state."""

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
    `rate_min_step` points marks hiking or cutting for `rate_window_days` days after it takes
    effect; with no change in that window the state is holding. The default window (190 days)
    bridges the longest pause inside a cycle in the data (182 days, June to December 2017).

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
    rate_window_days: int = 190
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
        if self.rate_window_days < 1:
            raise ValueError("rate_window_days must be >= 1")
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


@dataclass(frozen=True)
class RateChange:
    """A policy-rate change effective on `date` (percent, target midpoint or DFF-implied)."""

    date: date
    before: float
    after: float
    source: str  # "target" (DFEDTARU/L) or "dff" (implied from the effective rate)

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class RegimePeriod:
    """Days with one (regime, balance sheet, rate) combination: [start, end), end exclusive.

    `end` is the first day of the next period, or None for the period still running at the
    end of the data.
    """

    start: date
    end: date | None
    regime: Regime
    balance_sheet: BalanceSheet
    rate: Rate


@dataclass(frozen=True)
class Pivot:
    """A change of regime on `date`, with the component changes that caused it."""

    date: date
    from_regime: Regime
    to_regime: Regime
    causes: tuple[str, ...]


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
    policy_rate: float | None
    since: date | None
    last_pivot: Pivot | None
    upcoming: tuple[FedAnnouncement, ...]
    warnings: tuple[str, ...]
