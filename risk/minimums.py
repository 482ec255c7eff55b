"""The venue's smallest sale of a symbol, in base units at a given price. Pure.

A sale the venue refuses is worse than no decision: a take-profit tier below the minimum
notional would be rejected, never marked taken, and everything that follows it (break-even,
trailing arming) would never happen. So every sell is sized against this minimum before it is
sent (see `risk.take_profit.plan_take_profits` and `risk.engine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SaleMinimum:
    """amount: minimum order amount (base); notional: minimum amount * price (quote), with
    whatever safety margin the caller wants; step: the base lot step (0 = none)."""

    amount: Decimal = _ZERO
    notional: Decimal = _ZERO
    step: Decimal = _ZERO

    def at(self, price: Decimal) -> Decimal:
        """Smallest amount (base, a whole number of steps) the venue accepts at `price`."""
        # The engine asks this for every position on every tick: the comparisons below are
        # `max()` spelt out (the same object wins on a tie), which costs a third less.
        need = self.amount
        notional = self.notional
        if notional > _ZERO and price > _ZERO:
            by_notional = notional / price
            if by_notional > need:
                need = by_notional
        step = self.step
        if step > _ZERO:
            # Never less than one lot: a sale that rounds down to nothing is no sale.
            if step > need:
                need = step
            need = (need / step).to_integral_value(rounding=ROUND_CEILING) * step
        return need


NO_MINIMUM = SaleMinimum()
