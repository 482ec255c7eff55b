"""Entry plans and their tranches: the domain types the planner, job and store share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from exchanges.base import OrderType

_ZERO = Decimal(0)


class PlanStatus(StrEnum):
    ACTIVE = "active"  # tranches still to place or to follow
    COMPLETE = "complete"  # every tranche done; the position is held, the risk job exits it
    CLOSED = "closed"  # the cycle is over: position exited, or nothing was bought


class TrancheStatus(StrEnum):
    PENDING = "pending"  # waiting for its time or a gate (may have earlier attempts)
    ORDERED = "ordered"  # attempt `attempt` handed to the order manager, not finished
    FILLED = "filled"  # done with something bought (fully, or partly after the last attempt)
    SKIPPED = "skipped"  # done with nothing bought by decision (anti-chase, venue minimum)
    FAILED = "failed"  # the venue rejected the order
    CANCELED = "canceled"  # the plan ended first


DONE = frozenset(
    {
        TrancheStatus.FILLED,
        TrancheStatus.SKIPPED,
        TrancheStatus.FAILED,
        TrancheStatus.CANCELED,
    }
)


@dataclass(frozen=True)
class Plan:
    """One symbol's staggered entry and the cycle it opens, until the position is exited.

    plan_id: unique across database resets (symbol, cycle and start second), because client
    order ids derive from it. budget: quote for all tranches. start_price: the symbol's price
    when the plan began (alts measure the reference's gain from it). position_cycle_id: the
    risk position's cycle the plan's fills opened. realized_pnl: the cycle's net PnL (quote,
    after fees) once closed.
    """

    plan_id: str
    symbol: str
    cycle: int
    kind: str
    status: PlanStatus
    budget: Decimal
    order_type: OrderType
    created_at: datetime
    start_price: Decimal | None
    start_reason: str
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    position_cycle_id: str | None = None
    realized_pnl: Decimal | None = None
    last_flush_at: datetime | None = None


@dataclass(frozen=True)
class Tranche:
    """One slice of a plan. `number` is 1-based. Amounts: quote unless named `_base`.

    planned_at: the time set at plan creation; scheduled_at: when it is due now (moved by a
    flush pull-forward or by an earlier tranche's hold). attempt: 0 for the first order,
    k for the k-th re-placement (reprice or market conversion); order_type is the current
    attempt's type and order_at when that attempt was handed over. held_since / hold_gate /
    hold_reason: the gate holding it back now (cleared when it is placed). filled_quote:
    cost of the base bought, fees excluded.
    """

    plan_id: str
    number: int
    quote_amount: Decimal
    offset: Decimal
    planned_at: datetime
    scheduled_at: datetime
    status: TrancheStatus = TrancheStatus.PENDING
    attempt: int = 0
    order_type: OrderType = OrderType.LIMIT
    order_at: datetime | None = None
    first_placed_at: datetime | None = None
    held_since: datetime | None = None
    hold_gate: str | None = None
    hold_reason: str | None = None
    pulled_forward: bool = False
    filled_base: Decimal = _ZERO
    filled_quote: Decimal = _ZERO
    fees: Decimal = _ZERO
    done_at: datetime | None = None
    note: str | None = None

    @property
    def cause(self) -> str:
        """The order manager's cause of the current attempt (its client order id derives
        from it): `plan:<id>|tranche:<n>`, then `|r<k>` for the k-th re-placement."""
        return tranche_cause(self.plan_id, self.number, self.attempt)

    @property
    def remaining_quote(self) -> Decimal:
        return max(self.quote_amount - self.filled_quote, _ZERO)

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_quote / self.filled_base if self.filled_base > 0 else None


def tranche_cause(plan_id: str, number: int, attempt: int = 0) -> str:
    base = f"plan:{plan_id}|tranche:{number}"
    return base if attempt == 0 else f"{base}|r{attempt}"


def plan_filled(tranches: tuple[Tranche, ...] | list[Tranche]) -> tuple[Decimal, Decimal]:
    """(base bought, quote spent) over the tranches, fees excluded."""
    base = sum((t.filled_base for t in tranches), _ZERO)
    quote = sum((t.filled_quote for t in tranches), _ZERO)
    return base, quote
