"""Where the next bar worth handing to the jobs is: price levels and a vectorised search. Pure.

The levels come from the same pure risk functions the risk job runs (hard stop, take-profit
triggers, trailing stop and its activation) and from the paper engine's resting orders. They
only decide *which* bars the replay hands to the real code; what happens on such a bar is
decided by the paper engine and the risk/entry jobs themselves. The search is deliberately
loose (it may flag a bar where nothing happens, never miss one that matters):

- a bar is flagged when its low reaches the highest level below the price (stop, resting buy)
  or its high reaches the lowest level above it (next tier, trailing activation, resting sell);
- an active trailing stop ratchets with the running high, the bar's own high included, so a
  bar that makes a new high and falls back is flagged as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from bot.backtest.candles import FloatArray
from exchanges.base import Order, Side
from risk.marks import PositionMarks, tiers_done
from risk.params import RiskParams
from risk.position import Position
from risk.stops import position_stop
from risk.trailing import trailing_should_activate

_ONE = Decimal(1)
# Float copies of Decimal levels may differ in the last bit: widen the test a little.
SLACK = 1e-9


@dataclass(frozen=True)
class Watch:
    """Levels of one symbol. Decimal, so a crossing is handed to the real code exactly.

    below: a price at or under any of these matters (stops, resting buys).
    above: a price at or over any of these matters (next tier, activation, resting sells).
    trail_factor: 1 - trailing callback while a trailing stop is active (else None); with
    `trail_stop` (current level) and `high_water` (the engine's high-water mark).
    """

    below: tuple[Decimal, ...] = ()
    above: tuple[Decimal, ...] = ()
    trail_factor: Decimal | None = None
    trail_stop: Decimal | None = None
    high_water: Decimal | None = None

    @property
    def empty(self) -> bool:
        return not self.below and not self.above and self.trail_factor is None

    def trail_level(self, high_water: Decimal) -> Decimal | None:
        """The trailing stop once the high-water mark is `high_water` (it only ratchets up)."""
        if self.trail_factor is None:
            return None
        level = self.trail_factor * max(high_water, self.high_water or high_water)
        return level if self.trail_stop is None else max(level, self.trail_stop)


def exit_watch(
    position: Position | None,
    marks: PositionMarks | None,
    params: RiskParams,
    orders: Iterable[Order] = (),
) -> Watch:
    """The levels at which the risk rules or a resting order act on this symbol next."""
    below: list[Decimal] = []
    above: list[Decimal] = []
    for order in orders:
        if order.price is not None and order.is_open:
            (below if order.side is Side.BUY else above).append(order.price)
    trail_factor = trail_stop = high_water = None
    if position is not None and position.is_open(params.dust_for(position.symbol)):
        current = marks if marks is not None and marks.cycle_id == position.cycle_id else None
        done = tiers_done(position, current)
        hard = position_stop(position, current, params)
        if hard is not None:
            below.append(hard.price)
        entry = position.avg_entry_price
        for index, tier in enumerate(params.take_profit_tiers, start=1):
            if index not in done:
                above.append(entry * (_ONE + tier.gain))
                break
        high_water = current.high_water_mark if current else position.peak_fill_price
        trail_stop = current.trailing_stop if current else None
        callback = params.trailing_stop_pct
        if callback is not None:
            # Active, or armed at the next evaluation (the last tier is already taken).
            armed = trail_stop is not None or trailing_should_activate(
                len(params.take_profit_tiers),
                done,
                high_water,
                entry,
                params.trailing_activation_gain,
                params.trailing_arm_after_tiers,
            )
            if armed:
                trail_factor = _ONE - callback
            elif params.trailing_activation_gain is not None:
                above.append(entry * (_ONE + params.trailing_activation_gain))
    return Watch(tuple(below), tuple(above), trail_factor, trail_stop, high_water)


def first_flagged(high: FloatArray, low: FloatArray, lo: int, hi: int, watch: Watch) -> int | None:
    """Index of the first bar in [lo, hi) where `watch` may trigger, or None."""
    if hi <= lo or watch.empty:
        return None
    if hi - lo == 1:
        return lo if _bar_flagged(float(high[lo]), float(low[lo]), watch) else None
    highs, lows = high[lo:hi], low[lo:hi]
    flagged = np.zeros(hi - lo, dtype=bool)
    if watch.below:
        flagged |= lows <= float(max(watch.below)) * (1 + SLACK)
    if watch.above:
        flagged |= highs >= float(min(watch.above)) * (1 - SLACK)
    if watch.trail_factor is not None:
        running = np.maximum.accumulate(highs)
        if watch.high_water is not None:
            running = np.maximum(running, float(watch.high_water))
        stop = running * float(watch.trail_factor)
        if watch.trail_stop is not None:
            stop = np.maximum(stop, float(watch.trail_stop))
        flagged |= lows <= stop * (1 + SLACK)
    first = int(np.argmax(flagged))
    return lo + first if flagged[first] else None


def _bar_flagged(high: float, low: float, watch: Watch) -> bool:
    """`first_flagged` of a single bar, in plain floats: most searches cover one bar, where
    numpy's per-call cost dominates. The same float64 operations in the same order."""
    if watch.below and low <= float(max(watch.below)) * (1 + SLACK):
        return True
    if watch.above and high >= float(min(watch.above)) * (1 - SLACK):
        return True
    if watch.trail_factor is not None:
        running = high
        if watch.high_water is not None:
            running = max(running, float(watch.high_water))
        stop = running * float(watch.trail_factor)
        if watch.trail_stop is not None:
            stop = max(stop, float(watch.trail_stop))
        return low <= stop * (1 + SLACK)
    return False


def next_crossing(watch: Watch, start: Decimal, end: Decimal) -> Decimal | None:
    """The first level met moving from `start` to `end` (excluding `start` itself).

    Falling: the highest `below` level (or active trailing stop) in [end, start); rising: the
    lowest `above` level in (start, end]. The trailing stop is judged at the high-water mark
    the engine already holds; the replay syncs that mark at every turning point of the path.
    """
    if end < start:
        levels = list(watch.below)
        trail = watch.trail_level(watch.high_water or start)
        if trail is not None:
            levels.append(trail)
        hits = [lv for lv in levels if end <= lv < start]
        return max(hits) if hits else None
    if end > start:
        hits = [lv for lv in watch.above if start < lv <= end]
        return min(hits) if hits else None
    return None
