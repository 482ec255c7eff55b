"""Each thesis claim measured after the pivots AND after every day: is a pivot special?

"Closed above the pivot price some time 6–18 months later" is true after most days of BTC's
history, so it holding after a pivot says nothing by itself. For each claim and asset this puts
the pivots' outcomes into the distribution of the same measure taken from every day of the
same asset's data (`bot.backtest.forward_returns` measures both the same way). Pure.

- Percentile of a pivot: the share of all days whose value is lower, counting ties as half
  (0–100; 50 = a typical day).
- Base rate: the share of all days on which the claim is true (value > 0).
- Buy & hold pace: holding from the first close to the last, compounded evenly, expressed over
  the claim's horizon; for the best-close window claim there is no holding return to compare.
- Pivots counted: the first pivot of each easing episode. A pivot toward easing that follows
  another with no pivot toward tightening in between (tightening -> neutral, then neutral ->
  easing a day later) is the same move: shown, but counted once, or one event would weigh twice.
- Verdict (`supported` only when all hold): at least `MIN_PIVOTS` pivots with data, a median
  pivot percentile of at least `MIN_MEDIAN_PERCENTILE`, and at most `MAX_CHANCE` chance that
  as many random days would beat the median day (a sign test). With fewer than five pivots the
  sign test cannot reach 5 % (four of four happens by chance one time in sixteen).
- The chances treat pivots as independent draws; they are not (BTC and ETH move together, and
  every-day windows overlap), so the true chances are higher still.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.backtest.forward_returns import (
    HORIZON_MONTHS,
    DailyCloses,
    best_in_window,
    return_after,
    start_price,
)

MIN_PIVOTS = 5
MIN_MEDIAN_PERCENTILE = 75.0
MAX_CHANCE = 0.05
# Above this base rate a claim is true on most days anyway: worth saying in its verdict.
_COMMONPLACE_RATE = 0.75
_DAYS_PER_MONTH = 365.2425 / 12
CAVEAT = (
    "percentiles rank each pivot among every day of the same asset; chances assume independent "
    "pivots and are optimistic (BTC and ETH move together, every-day windows overlap); with "
    "only a handful of pivots nothing here is statistically significant"
)


@dataclass(frozen=True)
class Claim:
    """A statement about the price after a day. `months` None = the 6–18 month window."""

    key: str
    label: str
    text: str
    months: int | None

    def value(self, closes: DailyCloses, day: date) -> float | None:
        """The claim's measure after `day` (a fraction); the claim holds when it is > 0."""
        start = start_price(closes, day)
        if start is None:
            return None
        if self.months is None:
            return best_in_window(closes, day, start)
        return return_after(closes, day, start, self.months)


WINDOW_CLAIM = Claim(
    "rose_6_18m", "above 6–18m", "closed above the start price some time 6–18 months later", None
)
CLAIMS = (
    WINDOW_CLAIM,
    *(
        Claim(f"up_{m}m", f"up {m}m", f"closed above the start price {m} months later", m)
        for m in HORIZON_MONTHS
    ),
)


@dataclass(frozen=True)
class PivotValue:
    """One pivot under one claim: its value (None = no data) and percentile among all days.
    `counted` False = a later pivot of an easing episode already counted."""

    day: date
    value: float | None
    percentile: float | None
    counted: bool = True


@dataclass(frozen=True)
class ClaimBaseline:
    """One claim on one asset: the pivots against every day of that asset's data."""

    claim: Claim
    asset: str
    pivots: tuple[PivotValue, ...]
    days: int  # days with a value: the size of the unconditional distribution
    base_rate: float | None
    all_days_median: float | None
    buy_hold_pace: float | None

    @property
    def measured(self) -> tuple[PivotValue, ...]:
        return tuple(p for p in self.pivots if p.counted and p.percentile is not None)

    @property
    def pivots_true(self) -> int:
        return sum(1 for p in self.measured if p.value is not None and p.value > 0)

    @property
    def chance_true(self) -> float | None:
        """Chance that as many random days make the claim true as the pivots did."""
        if self.base_rate is None or not self.measured:
            return None
        return binomial_tail(len(self.measured), self.base_rate, self.pivots_true)

    @property
    def median_percentile(self) -> float | None:
        ranks = [p.percentile for p in self.measured if p.percentile is not None]
        return statistics.median(ranks) if ranks else None

    @property
    def beat_median_day(self) -> int:
        return sum(1 for p in self.measured if p.percentile is not None and p.percentile > 50)

    @property
    def chance_beat(self) -> float | None:
        """Sign test: chance that as many random days would beat the median day."""
        n = len(self.measured)
        return binomial_tail(n, 0.5, self.beat_median_day) if n else None

    @property
    def supported(self) -> bool:
        median, chance = self.median_percentile, self.chance_beat
        return (
            len(self.measured) >= MIN_PIVOTS
            and median is not None
            and median >= MIN_MEDIAN_PERCENTILE
            and chance is not None
            and chance <= MAX_CHANCE
        )

    @property
    def verdict(self) -> str:
        """One plain sentence: supported, or what falls short and why."""
        n = len(self.measured)
        if n == 0:
            return "not supported by this data: no pivot toward easing has data for it yet"
        median, beat, chance_true = self.median_percentile, self.chance_beat, self.chance_true
        context = (
            f"true after {self.pivots_true} of {n} pivots and on {_rate(self.base_rate)} of all "
            f"{self.days} days"
        )
        if chance_true is not None:
            context += f" (chance {chance_true:.2f} for {n} random days)"
        if self.base_rate is not None and self.base_rate >= _COMMONPLACE_RATE:
            context += ", so being true says little"
        repeated = sum(1 for p in self.pivots if not p.counted and p.percentile is not None)
        if repeated:
            context += f"; {repeated} later pivot{'s' if repeated > 1 else ''} of the same "
            context += "episode not counted"
        if self.supported:
            return (
                f"supported: median pivot percentile {median:.0f}, {self.beat_median_day} of "
                f"{n} beat the median day (chance {beat:.2f}); {context}"
            )
        shortfalls = []
        if n < MIN_PIVOTS:
            shortfalls.append(
                f"only {n} pivot{'s' if n > 1 else ''} with data (need ≥ {MIN_PIVOTS})"
            )
        if median is not None and median < MIN_MEDIAN_PERCENTILE:
            shortfalls.append(
                f"median pivot percentile {median:.0f} (need ≥ {MIN_MEDIAN_PERCENTILE:.0f})"
            )
        if beat is not None and beat > MAX_CHANCE:
            shortfalls.append(
                f"{self.beat_median_day} of {n} beat the median day: chance {beat:.2f} "
                f"(need ≤ {MAX_CHANCE})"
            )
        return "not supported by this data: " + "; ".join([*shortfalls, context])


@dataclass(frozen=True)
class Baseline:
    """Every claim on every asset, in `CLAIMS` order then asset order."""

    pivot_days: tuple[date, ...]
    claims: tuple[ClaimBaseline, ...]

    def for_claim(self, claim: Claim, asset: str) -> ClaimBaseline | None:
        return next((c for c in self.claims if c.claim.key == claim.key and c.asset == asset), None)


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.0f}%"


def binomial_tail(n: int, p: float, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def percentile(sorted_values: Sequence[float], value: float) -> float:
    """Share of `sorted_values` below `value`, ties counted half, in percent (0–100)."""
    below = bisect.bisect_left(sorted_values, value)
    equal = bisect.bisect_right(sorted_values, value) - below
    return 100.0 * (below + 0.5 * equal) / len(sorted_values)


def every_day_values(closes: DailyCloses, claim: Claim) -> list[float]:
    """The claim's value from every close in the data: the day after a close starts from it,
    just as a pivot starts from the last close before it."""
    values = (claim.value(closes, day + timedelta(days=1)) for day in closes.days)
    return [v for v in values if v is not None]


def buy_hold_pace(closes: DailyCloses, months: int) -> float | None:
    """First-to-last-close return, compounded evenly, over `months` months."""
    if len(closes.days) < 2:
        return None
    span = (closes.days[-1] - closes.days[0]).days
    growth = closes.closes[-1] / closes.closes[0]
    return float(growth ** (months * _DAYS_PER_MONTH / span) - 1.0)


def claim_baseline(
    claim: Claim,
    asset: str,
    closes: DailyCloses,
    pivot_days: Sequence[date],
    repeats: Collection[date] = (),
) -> ClaimBaseline:
    """`repeats`: pivot days shown but not counted (later pivots of an episode)."""
    every_day = sorted(every_day_values(closes, claim))
    pivots = []
    for day in pivot_days:
        value = claim.value(closes, day)
        rank = percentile(every_day, value) if value is not None and every_day else None
        pivots.append(PivotValue(day, value, rank, day not in repeats))
    return ClaimBaseline(
        claim=claim,
        asset=asset,
        pivots=tuple(pivots),
        days=len(every_day),
        base_rate=(
            (len(every_day) - bisect.bisect_right(every_day, 0.0)) / len(every_day)
            if every_day
            else None
        ),
        all_days_median=statistics.median(every_day) if every_day else None,
        buy_hold_pace=buy_hold_pace(closes, claim.months) if claim.months else None,
    )


def baseline(
    pivot_days: Sequence[date],
    closes: Mapping[str, DailyCloses],
    assets: Sequence[str],
    repeats: Collection[date] = (),
) -> Baseline:
    """Every claim for every asset in `assets`, the pivots on `pivot_days` against all days;
    the days in `repeats` are shown but not counted."""
    return Baseline(
        pivot_days=tuple(pivot_days),
        claims=tuple(
            claim_baseline(claim, asset, closes[asset], pivot_days, repeats)
            for claim in CLAIMS
            for asset in assets
        ),
    )


def baseline_as_dict(report: Baseline) -> dict[str, object]:
    """Plain data for `--json`: the same figures as the table (fractions, percentiles 0–100)."""
    return {
        "rule": {
            "min_pivots": MIN_PIVOTS,
            "min_median_percentile": MIN_MEDIAN_PERCENTILE,
            "max_chance": MAX_CHANCE,
        },
        "caveat": CAVEAT,
        "pivot_dates": [d.isoformat() for d in report.pivot_days],
        "claims": [
            {
                "claim": c.claim.key,
                "text": c.claim.text,
                "months": c.claim.months,
                "asset": c.asset,
                "days": c.days,
                "base_rate": c.base_rate,
                "all_days_median": c.all_days_median,
                "buy_hold_pace": c.buy_hold_pace,
                "pivots": [
                    {
                        "date": p.day.isoformat(),
                        "value": p.value,
                        "percentile": p.percentile,
                        "counted": p.counted,
                    }
                    for p in c.pivots
                ],
                "pivots_measured": len(c.measured),
                "pivots_true": c.pivots_true,
                "chance_true": c.chance_true,
                "median_percentile": c.median_percentile,
                "beat_median_day": c.beat_median_day,
                "chance_beat": c.chance_beat,
                "supported": c.supported,
                "verdict": c.verdict,
            }
            for c in report.claims
        ],
    }
