"""Per-position state that fills cannot rebuild; the caller persists it after every evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PositionMarks:
    """What the risk engine remembers about one position between price ticks.

    cycle_id: the `Position.cycle_id` these marks belong to; marks of another cycle are
    discarded, so a new cycle never inherits an old high or stop.
    high_water_mark: highest price (quote per base) seen since the cycle's first entry.
    trailing_stop: current trailing stop level (quote per base); None = not active yet.
    Once set it stays active for the rest of the cycle and only moves up.
    """

    cycle_id: str
    high_water_mark: Decimal
    trailing_stop: Decimal | None = None
