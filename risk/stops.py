"""Hard stop-loss below the average entry, optionally raised to break-even after a tier."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from risk._fmt import fmt_num, fmt_pct
from risk.position import Position

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class StopLevel:
    """A hard stop price (quote per base); `break_even` tells which rule set it."""

    price: Decimal
    break_even: bool


def hard_stop_level(
    position: Position, stop_loss_pct: Decimal | None, breakeven_after_first_tier: bool
) -> StopLevel | None:
    """The hard stop for `position`, or None when no stop applies.

    stop_loss_pct (fraction, None = off) puts the stop that far below the average entry.
    With `breakeven_after_first_tier`, once any tier has been taken the stop is raised to
    `position.break_even_price` (entry plus fees per unit held). That raise applies even when
    the percentage stop is off: the user asked not to give back the entry once in profit.
    """
    level: StopLevel | None = None
    if stop_loss_pct is not None:
        level = StopLevel(position.avg_entry_price * (_ONE - stop_loss_pct), False)
    if breakeven_after_first_tier and position.tiers_taken:
        break_even = position.break_even_price
        if level is None or break_even > level.price:
            level = StopLevel(break_even, True)
    return level


def describe_stop(position: Position, level: StopLevel, stop_loss_pct: Decimal | None) -> str:
    """Why the stop sits where it does, e.g. "entry 100 - 15%"."""
    entry = fmt_num(position.avg_entry_price)
    if level.break_even:
        per_unit = position.break_even_price - position.avg_entry_price
        return f"break-even: entry {entry} + fees {fmt_num(per_unit)}/unit"
    pct = fmt_pct(stop_loss_pct) if stop_loss_pct is not None else "?"
    return f"entry {entry} - {pct}"
