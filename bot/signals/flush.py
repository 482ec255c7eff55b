"""Flush detector: a long-liquidation cascade worth acting on. Pure.

A flush fires at `now` when the long notional liquidated in (now - window, now]
  1. is at least `min_long_usd`, AND
  2. is at least `min_multiple` times the median of the same window's totals over the
     `baseline_windows` windows before it (non-overlapping, ending at now - window, now - 2w,
     ...; at least `min_baseline_windows` of them must hold data),
and no flush fired within `cooldown` before, unless the window is a larger cascade: at least
`escalation_multiple` times the long notional of the flush that started the cool-down (which it
then restarts). A small run-up window that fires first must not hide the real cascade hours
later (2025-10-10: 51M USD of BTC longs in the window to 20:00 fired; the 286M USD window to
midnight fired only with this rule). A flush "decays": `flush_active` is true only during the
cool-down after it fired.

Inputs are `LiquidationBar`s of one symbol and one bar size that divides the window (1d bars
with a 1d window for the recorded daily files; 1h buckets with a 24h window live). A bar
counts toward a window when it lies entirely inside it. Amounts are USD floats (analytics).
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.signals.liquidations import LiquidationBar


@dataclass(frozen=True)
class FlushParams:
    """Defaults fit the recorded Binance daily aggregates (BTC): a 24 h window.

    escalation_multiple: inside a cool-down, a window with at least this multiple of the long
    notional of the flush that started it fires anyway (None: nothing fires in a cool-down).
    2 means a cascade at least twice the size already acted on: the rolling windows of one
    cascade overlap, so a smaller step up is the same event seen again.
    """

    window: timedelta = timedelta(hours=24)
    min_long_usd: float = 50_000_000.0
    min_multiple: float = 4.0
    baseline_windows: int = 30
    min_baseline_windows: int = 10
    cooldown: timedelta = timedelta(hours=72)
    escalation_multiple: float | None = 2.0

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.cooldown < timedelta(0):
            raise ValueError("window must be positive and cooldown >= 0")
        if self.escalation_multiple is not None and self.escalation_multiple < 1:
            raise ValueError("escalation_multiple must be >= 1 (or None: no flush in a cool-down)")
        if self.min_long_usd < 0 or self.min_multiple <= 0:
            raise ValueError("min_long_usd must be >= 0 and min_multiple > 0")
        if not 1 <= self.min_baseline_windows <= self.baseline_windows:
            raise ValueError("need 1 <= min_baseline_windows <= baseline_windows")


@dataclass(frozen=True)
class Flush:
    """A long-liquidation cascade in the window ending at `time` (USD notional)."""

    time: datetime
    symbol: str
    long_notional: float
    multiple: float
    reason: str
    window: timedelta

    @property
    def window_start(self) -> datetime:
        return self.time - self.window


class _Bars:
    """Bars of one series with prefix sums, for window totals by binary search."""

    def __init__(self, bars: Sequence[LiquidationBar]) -> None:
        ordered = sorted(bars, key=lambda b: b.start)
        self.starts = [b.start for b in ordered]
        self.ends = [b.end for b in ordered]
        self.prefix = [0.0]
        for bar in ordered:
            self.prefix.append(self.prefix[-1] + bar.long_usd)
        self.symbol = ordered[0].symbol if ordered else ""

    def window_total(self, start: datetime, end: datetime) -> tuple[float, int]:
        """(long USD, number of bars) of bars with start >= `start` and end <= `end`."""
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_right(self.ends, end)
        if hi <= lo:
            return 0.0, 0
        return self.prefix[hi] - self.prefix[lo], hi - lo


def evaluate_flush(
    bars: Sequence[LiquidationBar],
    now: datetime,
    params: FlushParams | None = None,
    last_flush_at: datetime | None = None,
    last_long_usd: float | None = None,
) -> Flush | None:
    """The flush at `now`, if the window ending at `now` qualifies (see module docstring).

    last_flush_at / last_long_usd: the previous flush's time and long notional (USD); inside
    its cool-down only a window of `escalation_multiple` times `last_long_usd` can fire, and
    nothing can when `last_long_usd` is unknown.
    """
    params = params or FlushParams()
    if not bars:
        return None
    return _evaluate(_Bars(bars), now, params, last_flush_at, last_long_usd)


def _evaluate(
    series: _Bars,
    now: datetime,
    params: FlushParams,
    last_flush_at: datetime | None,
    last_long_usd: float | None,
) -> Flush | None:
    window = params.window
    total, count = series.window_total(now - window, now)
    escalated = ""
    if last_flush_at is not None and now - last_flush_at < params.cooldown:
        factor = params.escalation_multiple
        if factor is None or last_long_usd is None or total < factor * last_long_usd:
            return None
        ratio = f"{total / last_long_usd:.1f}x" if last_long_usd > 0 else "above"
        escalated = (
            f"; {ratio} the {last_long_usd / 1e6:.1f}M flush at "
            f"{last_flush_at:%Y-%m-%d %H:%M} whose cool-down it breaks"
        )
    if count == 0 or total < params.min_long_usd:
        return None
    baseline: list[float] = []
    for k in range(1, params.baseline_windows + 1):
        end = now - k * window
        value, n = series.window_total(end - window, end)
        if n:
            baseline.append(value)
    if len(baseline) < params.min_baseline_windows:
        return None
    median = statistics.median(baseline)
    multiple = total / median if median > 0 else float("inf")
    if multiple < params.min_multiple:
        return None
    reason = (
        f"long liquidations {total / 1e6:.1f}M USD in {_hours(window)}h >= "
        f"{params.min_long_usd / 1e6:.1f}M and {multiple:.1f}x the median "
        f"{median / 1e6:.2f}M of the previous {len(baseline)} windows{escalated}"
    )
    return Flush(now, series.symbol, total, multiple, reason, window)


def scan_flushes(bars: Sequence[LiquidationBar], params: FlushParams | None = None) -> list[Flush]:
    """Evaluate at every bar end, in time order, honouring the cool-down and its escalation
    (for backtests)."""
    params = params or FlushParams()
    if not bars:
        return []
    series = _Bars(bars)
    found: list[Flush] = []
    last: Flush | None = None
    for end in sorted(set(series.ends)):
        flush = _evaluate(
            series,
            end,
            params,
            last.time if last else None,
            last.long_notional if last else None,
        )
        if flush is not None:
            found.append(flush)
            last = flush
    return found


def flush_active(flush: Flush | None, now: datetime, params: FlushParams | None = None) -> bool:
    """True while `now` is inside the cool-down that follows `flush`."""
    params = params or FlushParams()
    return flush is not None and flush.time <= now < flush.time + params.cooldown


def _hours(window: timedelta) -> str:
    return f"{window.total_seconds() / 3600:g}"
