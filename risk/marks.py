"""Per-position state that fills cannot rebuild; the caller persists it after every evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from risk.position import Position


@dataclass(frozen=True, slots=True)
class PositionMarks:
    """What the risk engine remembers about one position between price ticks.

    cycle_id: the `Position.cycle_id` these marks belong to; marks of another cycle are
    discarded, so a new cycle never inherits an old high or stop.
    high_water_mark: highest price (quote per base) seen since the cycle's first entry.
    trailing_stop: current trailing stop level (quote per base); None = not active yet.
    Once set it stays active for the rest of the cycle and only moves up.
    break_even: the break-even stop level, fixed the first time a tier is done (taken or
    skipped); later fills never move it. None = not set yet.
    tiers_skipped: tiers the venue could not take (the whole holding below its minimum sale);
    they count as done, so what follows them (break-even, trailing arming) still happens.
    """

    cycle_id: str
    high_water_mark: Decimal
    trailing_stop: Decimal | None = None
    break_even: Decimal | None = None
    tiers_skipped: frozenset[int] = frozenset()


def tiers_done(position: Position, marks: PositionMarks | None) -> frozenset[int]:
    """Tiers taken by a sale in this cycle plus those skipped (marks of another cycle ignored)."""
    if marks is None or marks.cycle_id != (position.cycle_id or "") or not marks.tiers_skipped:
        return position.tiers_taken
    return position.tiers_taken | marks.tiers_skipped
