"""Net liquidity: the Fed's balance sheet less what sits idle at the Fed outside the banks,
WALCL - WTREGEN (Treasury General Account) - RRPONTSYD (overnight reverse repo), and a gate
that reads it: liquidity "draining" when it fell by at least a threshold over a trailing
window. Pure: series in, answers out.

Units: WALCL and WTREGEN in millions of USD (weekly, Wednesday), RRPONTSYD in billions
(daily). Without the TGA series the measure is WALCL - RRP, which misses the TGA's swings
(hundreds of billions around debt-ceiling episodes). Point in time: an observation counts from
`publication_lag_days` after its date (WALCL is published the day after its Wednesday).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta

from bot.signals.fred import FredSeries

RRP_TO_MILLIONS = 1000.0


def net_liquidity(walcl: FredSeries, rrp: FredSeries, tga: FredSeries | None = None) -> FredSeries:
    """Net liquidity (millions USD) at each WALCL date: the reverse repo and TGA taken at or
    before that date; weeks before the first RRP observation are left out."""
    dates: list[date] = []
    values: list[float] = []
    for day, assets in zip(walcl.dates, walcl.values, strict=True):
        repo = rrp.value_at_or_before(day)
        if repo is None:
            continue
        treasury = tga.value_at_or_before(day) if tga is not None else 0.0
        dates.append(day)
        values.append(assets - repo * RRP_TO_MILLIONS - (treasury or 0.0))
    return FredSeries("NETLIQ", tuple(dates), tuple(values), source="WALCL-WTREGEN-RRPONTSYD")


@dataclass(frozen=True)
class DrainGate:
    """`draining(day)`: net liquidity as known on `day` fell by at least `drain` (a fraction)
    over the trailing `window_weeks`; None while too little history is known."""

    series: FredSeries
    drain: float
    window_weeks: int = 13
    publication_lag_days: int = 1

    def change(self, day: date) -> float | None:
        known = bisect.bisect_right(
            self.series.dates, day - timedelta(days=self.publication_lag_days)
        )
        if known == 0:
            return None
        latest_day, latest = self.series.dates[known - 1], self.series.values[known - 1]
        base = self.series.value_at_or_before(latest_day - timedelta(weeks=self.window_weeks))
        if base is None or base <= 0:
            return None
        return latest / base - 1.0

    def draining(self, day: date) -> bool | None:
        change = self.change(day)
        return None if change is None else change <= -self.drain
