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
        need = self.amount
        if self.notional > 0 and price > 0:
            need = max(need, self.notional / price)
        if self.step > 0:
            # Never less than one lot: a sale that rounds down to nothing is no sale.
            need = max(need, self.step)
            need = (need / self.step).to_integral_value(rounding=ROUND_CEILING) * self.step
        return need


NO_MINIMUM = SaleMinimum()
