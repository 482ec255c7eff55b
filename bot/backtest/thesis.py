"""The playbook's thesis checked against data. Pure: no I/O, no clock.

The claim: "after every Fed pivot from tightening to easing, crypto rose within 6–18 months".
For every pivot the regime classifier finds (`bot.signals.regime.regime_history` + `pivots`,
with the shipped Fed announcements) this computes each asset's return 3, 6, 12 and 18 months
later and the maximum drawdown in between, and whether the claim held.

Definitions (also printed under the table):
- Pivot price: the asset's last daily close before the pivot's effective day (the price when
  the new regime began). A horizon price: the last daily close before pivot + N calendar
  months. Returns are simple (0.25 = +25 %).
- Max drawdown: the deepest peak-to-trough fall of daily closes from the pivot to pivot + 18
  months (or to the end of the data, marked `*`).
- "Rose within 6–18 months": some daily close between pivot + 6 and pivot + 18 months is above
  the pivot price. The claim held for a pivot when every asset with data rose; it failed when
  one did not; it is `open` when the window is not over and no close has risen yet.
- The claim is tested on pivots toward easing (tightening -> neutral/easing and neutral ->
  easing, the entry planner's definition); `strict` marks tightening -> easing itself.
- Holding after a pivot proves little when the claim holds after most days anyway:
  `ThesisReport.baseline` (`bot.backtest.thesis_baseline`) ranks each pivot among every day of
  the same asset and gives each claim a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.backtest.forward_returns import (
    HORIZON_MONTHS,
    WINDOW_MONTHS,
    DailyCloses,
    add_months,
    return_after,
    start_price,
)
from bot.backtest.thesis_baseline import WINDOW_CLAIM, Baseline, baseline, baseline_as_dict
from bot.signals.regime_types import Pivot, Regime
from bot.signals.regime_types import toward_easing as eases


class Verdict(StrEnum):
    HELD = "held"
    FAILED = "failed"
    OPEN = "open"  # window not over yet and no rise seen
    NO_DATA = "no data"
    NOT_TESTED = "-"  # a pivot toward tightening: the claim says nothing about it


@dataclass(frozen=True)
class AssetOutcome:
    """One asset after one pivot. Returns are fractions; None = the data does not reach."""

    asset: str
    pivot_price: float | None
    returns: tuple[float | None, ...]
    max_drawdown: float | None
    drawdown_complete: bool
    rose: bool | None

    @property
    def has_data(self) -> bool:
        return self.pivot_price is not None


@dataclass(frozen=True)
class PivotOutcome:
    pivot: Pivot
    toward_easing: bool
    strict: bool
    assets: tuple[AssetOutcome, ...]
    verdict: Verdict


@dataclass(frozen=True)
class ThesisReport:
    outcomes: tuple[PivotOutcome, ...]
    assets: tuple[str, ...]
    held: int
    failed: int
    open: int
    no_data: int
    strict_held: int
    strict_tested: int
    baseline: Baseline

    @property
    def tested(self) -> int:
        return self.held + self.failed

    @property
    def conclusion(self) -> str:
        if self.tested == 0:
            return "no pivot toward easing has enough price data to test the claim"
        verdict = "held every time" if self.failed == 0 else "did NOT hold every time"
        text = (
            f"the claim {verdict}: crypto rose within 6–18 months after {self.held} of "
            f"{self.tested} pivots toward easing with data"
        )
        if self.strict_tested:
            text += (
                f" ({self.strict_held} of {self.strict_tested} strict tightening -> easing pivots)"
            )
        extra = []
        if self.open:
            extra.append(f"{self.open} still open")
        if self.no_data:
            extra.append(f"{self.no_data} before the price data begins")
        text += f"; {', '.join(extra)}" if extra else ""
        return text + self._base_rates()

    def _base_rates(self) -> str:
        """The same claim after every day, so that 'held' is not read as evidence on its own."""
        rates = []
        for asset in self.assets:
            row = self.baseline.for_claim(WINDOW_CLAIM, asset)
            if row is not None and row.base_rate is not None:
                rates.append(f"{row.base_rate * 100:.0f}% of all {asset} days")
        if not rates:
            return ""
        supported = any(c.supported for c in self.baseline.claims if c.claim == WINDOW_CLAIM)
        return (
            f". But the same rise follows {' and '.join(rates)}, so on its own this proves "
            f"nothing; against every day the claim is "
            f"{'supported' if supported else 'NOT supported by this data'} (see the verdicts)"
        )


def toward_easing(pivot: Pivot) -> bool:
    return eases(pivot.from_regime, pivot.to_regime)


def max_drawdown(prices: Sequence[float]) -> float | None:
    """Deepest peak-to-trough fall as a negative fraction (0.0 when it never fell)."""
    if not prices:
        return None
    peak, worst = prices[0], 0.0
    for price in prices:
        peak = max(peak, price)
        worst = min(worst, price / peak - 1.0)
    return worst


def asset_outcome(asset: str, closes: DailyCloses, pivot_day: date) -> AssetOutcome:
    price = start_price(closes, pivot_day)
    if price is None:
        return AssetOutcome(asset, None, (None,) * len(HORIZON_MONTHS), None, False, None)
    returns = tuple(return_after(closes, pivot_day, price, m) for m in HORIZON_MONTHS)
    window_end = add_months(pivot_day, WINDOW_MONTHS[1])
    path = [price, *closes.window(pivot_day, window_end)]
    complete = closes.covers(window_end)
    in_window = closes.window(add_months(pivot_day, WINDOW_MONTHS[0]), window_end)
    rose: bool | None
    if any(c > price for c in in_window):
        rose = True
    elif complete:
        rose = False
    else:
        rose = None
    return AssetOutcome(asset, price, returns, max_drawdown(path), complete, rose)


def _verdict(outcomes: Sequence[AssetOutcome], tested: bool) -> Verdict:
    if not tested:
        return Verdict.NOT_TESTED
    with_data = [o for o in outcomes if o.has_data]
    if not with_data:
        return Verdict.NO_DATA
    if any(o.rose is False for o in with_data):
        return Verdict.FAILED
    if any(o.rose is None for o in with_data):
        return Verdict.OPEN
    return Verdict.HELD


def order_assets(assets: Sequence[str]) -> tuple[str, ...]:
    """BTC first, then ETH, then the rest alphabetically."""
    rank = {"BTC": 0, "ETH": 1}
    return tuple(sorted(set(assets), key=lambda a: (rank.get(a, 2), a)))


def thesis_report(pivots: Sequence[Pivot], closes: Mapping[str, DailyCloses]) -> ThesisReport:
    """Evaluate every pivot against every asset in `closes` (keyed by base asset)."""
    assets = order_assets(list(closes))
    outcomes: list[PivotOutcome] = []
    for pivot in pivots:
        easing = toward_easing(pivot)
        rows = tuple(asset_outcome(a, closes[a], pivot.date) for a in assets)
        strict = pivot.from_regime is Regime.TIGHTENING and pivot.to_regime is Regime.EASING
        outcomes.append(PivotOutcome(pivot, easing, strict, rows, _verdict(rows, easing)))
    count = {v: sum(1 for o in outcomes if o.verdict is v) for v in Verdict}
    strict_done = [o for o in outcomes if o.strict and o.verdict in (Verdict.HELD, Verdict.FAILED)]
    return ThesisReport(
        outcomes=tuple(outcomes),
        assets=assets,
        held=count[Verdict.HELD],
        failed=count[Verdict.FAILED],
        open=count[Verdict.OPEN],
        no_data=count[Verdict.NO_DATA],
        strict_held=sum(1 for o in strict_done if o.verdict is Verdict.HELD),
        strict_tested=len(strict_done),
        baseline=baseline(
            [o.pivot.date for o in outcomes if o.toward_easing],
            closes,
            assets,
            repeats=episode_repeats([o.pivot for o in outcomes]),
        ),
    )


def episode_repeats(pivots: Sequence[Pivot]) -> frozenset[date]:
    """Days of pivots toward easing that continue an easing episode: the previous pivot was
    toward easing too (no move toward tightening in between). Known on the day, no look-ahead."""
    repeats, easing_before = set(), False
    for pivot in sorted(pivots, key=lambda p: p.date):
        easing = toward_easing(pivot)
        if easing and easing_before:
            repeats.add(pivot.date)
        easing_before = easing
    return frozenset(repeats)


def report_as_dict(report: ThesisReport) -> dict[str, object]:
    """Plain data for `--json` (fractions, ISO dates)."""
    return {
        "claim": "after every Fed pivot from tightening to easing, crypto rose within 6-18 months",
        "conclusion": report.conclusion,
        "held": report.held,
        "failed": report.failed,
        "open": report.open,
        "no_data": report.no_data,
        "strict_held": report.strict_held,
        "strict_tested": report.strict_tested,
        "horizons_months": list(HORIZON_MONTHS),
        "pivots": [
            {
                "date": o.pivot.date.isoformat(),
                "from": str(o.pivot.from_regime),
                "to": str(o.pivot.to_regime),
                "causes": list(o.pivot.causes),
                "toward_easing": o.toward_easing,
                "strict": o.strict,
                "verdict": str(o.verdict),
                "assets": {
                    a.asset: {
                        "pivot_price": a.pivot_price,
                        "returns": {
                            str(m): r for m, r in zip(HORIZON_MONTHS, a.returns, strict=True)
                        },
                        "max_drawdown": a.max_drawdown,
                        "drawdown_complete": a.drawdown_complete,
                        "rose_within_6_18_months": a.rose,
                    }
                    for a in o.assets
                },
            }
            for o in report.outcomes
        ],
        "baseline": baseline_as_dict(report.baseline),
    }
