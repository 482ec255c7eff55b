"""Trailing stop on what remains after the take-profit tiers: activation and ratchet."""

from __future__ import annotations

from decimal import Decimal

_ONE = Decimal(1)


def trailing_should_activate(
    tier_count: int,
    tiers_taken: frozenset[int],
    high_water_mark: Decimal,
    avg_entry_price: Decimal,
    activation_gain: Decimal | None,
) -> bool:
    """Whether a not-yet-active trailing stop starts now.

    activation_gain None: once the last tier of the ladder has been taken (with an empty
    ladder: from entry). Otherwise once the high-water mark reached `activation_gain`
    (fraction) over the average entry.
    """
    if activation_gain is None:
        return tier_count == 0 or tier_count in tiers_taken
    return high_water_mark >= avg_entry_price * (_ONE + activation_gain)


def trailing_stop_level(callback: Decimal, high_water_mark: Decimal) -> Decimal:
    """The stop `callback` (fraction) below the high-water mark."""
    return high_water_mark * (_ONE - callback)


def ratchet(previous: Decimal | None, candidate: Decimal) -> Decimal:
    """The stop only moves up: the higher of the previous level and the candidate."""
    if previous is None or candidate > previous:
        return candidate
    return previous
