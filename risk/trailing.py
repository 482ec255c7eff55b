"""Trailing stop on what remains after the take-profit tiers: arming point and ratchet.

The arming point is a trade-off. Armed late (after the last tier) a run that stops just short
of it (+49 % with tiers at +20 % and +50 %) is managed only by the break-even stop and gives
the whole gain back; armed early (after the first tier) the stop sits `callback` below the
high and may sell a position that would have gone on to the next tier after a dip. The
setting is `RiskParams.trailing_arm_after_tiers`; README's "Exit rules" says which default the
backtests support.
"""

from __future__ import annotations

from decimal import Decimal

_ONE = Decimal(1)


def trailing_should_activate(
    tier_count: int,
    tiers_done: frozenset[int],
    high_water_mark: Decimal,
    avg_entry_price: Decimal,
    activation_gain: Decimal | None,
    arm_after_tiers: int | None = None,
) -> bool:
    """Whether a not-yet-active trailing stop starts now.

    `tiers_done`: tiers taken or skipped this cycle. `arm_after_tiers` n: armed once n tiers
    are done (0 = from entry). `activation_gain` g: armed once the high-water mark is g
    (fraction) over the average entry. Both None: after the last tier (an empty ladder: from
    entry); only `activation_gain` set: the gain alone arms it; both set: whichever first.
    """
    gain_reached = activation_gain is not None and high_water_mark >= avg_entry_price * (
        _ONE + activation_gain
    )
    if gain_reached:
        return True
    if arm_after_tiers is None:
        if activation_gain is not None:
            return False
        arm_after_tiers = tier_count
    return len(tiers_done) >= arm_after_tiers


def trailing_stop_level(callback: Decimal, high_water_mark: Decimal) -> Decimal:
    """The stop `callback` (fraction) below the high-water mark."""
    return high_water_mark * (_ONE - callback)


def ratchet(previous: Decimal | None, candidate: Decimal) -> Decimal:
    """The stop only moves up: the higher of the previous level and the candidate."""
    if previous is None or candidate > previous:
        return candidate
    return previous
