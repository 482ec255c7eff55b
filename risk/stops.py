"""Hard stop-loss below the average entry, raised to a fixed break-even level after a tier."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from risk._fmt import fmt_num, fmt_pct
from risk.marks import PositionMarks, tiers_done
from risk.params import RiskParams
from risk.position import Position

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class StopLevel:
    """A hard stop price (quote per base); `break_even` tells which rule set it."""

    price: Decimal
    break_even: bool


def break_even_level(
    position: Position, marks: PositionMarks | None, params: RiskParams
) -> Decimal | None:
    """The break-even stop level of this cycle, or None while it does not apply.

    It applies once a tier is done (taken or skipped) with `breakeven_after_first_tier`, and is
    fixed the first time the engine sees that (`PositionMarks.break_even`): a later fill (a
    sale's fee, a buy) must not move a stop the trader was shown. Until the engine has stored
    it, the position's current break-even price stands in.
    """
    if not params.breakeven_after_first_tier or not tiers_done(position, marks):
        return None
    same_cycle = marks is not None and marks.cycle_id == (position.cycle_id or "")
    if same_cycle and marks is not None and marks.break_even is not None:
        return marks.break_even
    return position.break_even_price


def hard_stop_level(
    position: Position, stop_loss_pct: Decimal | None, break_even: Decimal | None
) -> StopLevel | None:
    """The hard stop for `position`, or None when no stop applies.

    stop_loss_pct (fraction, None = off) puts the stop that far below the average entry;
    `break_even` (from `break_even_level`) raises it. That raise applies even when the
    percentage stop is off: the user asked not to give back the entry once in profit.
    """
    level = hard_stop_price(position, stop_loss_pct, break_even)
    return None if level is None else StopLevel(*level)


def hard_stop_price(
    position: Position, stop_loss_pct: Decimal | None, break_even: Decimal | None
) -> tuple[Decimal, bool] | None:
    """`hard_stop_level` as a (price, break_even) pair: the engine checks the stop of every
    position on every tick and needs a `StopLevel` only to describe an exit."""
    level: Decimal | None = None
    if stop_loss_pct is not None:
        level = position.avg_entry_price * (_ONE - stop_loss_pct)
    if break_even is not None and (level is None or break_even > level):
        return break_even, True
    return None if level is None else (level, False)


def position_stop(
    position: Position, marks: PositionMarks | None, params: RiskParams
) -> StopLevel | None:
    """The hard stop the engine applies to `position` with these marks."""
    return hard_stop_level(
        position, params.stop_loss_pct, break_even_level(position, marks, params)
    )


def describe_stop(position: Position, level: StopLevel, stop_loss_pct: Decimal | None) -> str:
    """Why the stop sits where it does, e.g. "entry 100 - 15%"."""
    entry = fmt_num(position.avg_entry_price)
    if level.break_even:
        per_unit = level.price - position.avg_entry_price
        return f"break-even: entry {entry} + fees {fmt_num(per_unit)}/unit"
    pct = fmt_pct(stop_loss_pct) if stop_loss_pct is not None else "?"
    return f"entry {entry} - {pct}"
