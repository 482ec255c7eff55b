"""Order intents and their status transitions.

An intent is what a decision asked for (a tranche buy, a tier sale, a stop exit). Its status
changes only through `transition`, which refuses illegal moves, so a replay after a restart
or a duplicate venue report cannot walk an order backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from exchanges.base import OrderStatus, OrderType, Side


class IntentStatus(StrEnum):
    PENDING = "pending"  # recorded; the send has not been confirmed either way
    UNKNOWN = "unknown"  # sent, outcome unknown (timeout): look it up before anything else
    NOT_FOUND = "not_found"  # the venue has never seen it: safe to send again, same client id
    OPEN = "open"
    CLOSED = "closed"  # fully filled
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class Refusal(StrEnum):
    """Why an intent ended `rejected`: decides whether its cause may get a new attempt."""

    FUNDS = "insufficient_funds"  # the venue said the free balance is short
    HELD = "base_held"  # not sent: the exchange stop still holds the base it would sell
    FINAL = "refused"  # any other refusal (filters, limits, keys): a resend would fail again


# Refusals that end once the base is free again (the exchange stop shrunk or canceled): the
# cause gets a new attempt then, with the next client order id.
RETRY_WHEN_FREE = frozenset({Refusal.FUNDS, Refusal.HELD})

ACTIVE = frozenset({IntentStatus.PENDING, IntentStatus.UNKNOWN, IntentStatus.OPEN})
UNRESOLVED = frozenset({IntentStatus.PENDING, IntentStatus.UNKNOWN})

_ALLOWED: dict[IntentStatus, frozenset[IntentStatus]] = {
    IntentStatus.PENDING: frozenset(IntentStatus) - {IntentStatus.PENDING},
    IntentStatus.UNKNOWN: frozenset(IntentStatus) - {IntentStatus.PENDING},
    IntentStatus.NOT_FOUND: frozenset({IntentStatus.PENDING, IntentStatus.NOT_FOUND}),
    IntentStatus.OPEN: frozenset(
        {
            IntentStatus.OPEN,
            IntentStatus.CLOSED,
            IntentStatus.CANCELED,
            IntentStatus.EXPIRED,
            IntentStatus.NOT_FOUND,
        }
    ),
    IntentStatus.CLOSED: frozenset({IntentStatus.CLOSED}),
    IntentStatus.CANCELED: frozenset({IntentStatus.CANCELED}),
    IntentStatus.EXPIRED: frozenset({IntentStatus.EXPIRED}),
    IntentStatus.REJECTED: frozenset({IntentStatus.REJECTED}),
}

_FROM_VENUE = {
    OrderStatus.OPEN: IntentStatus.OPEN,
    OrderStatus.CLOSED: IntentStatus.CLOSED,
    OrderStatus.CANCELED: IntentStatus.CANCELED,
    OrderStatus.EXPIRED: IntentStatus.EXPIRED,
    OrderStatus.REJECTED: IntentStatus.REJECTED,
}


class IllegalTransition(RuntimeError):
    """A status change that would rewrite history (e.g. closed -> open)."""


def transition(current: IntentStatus, new: IntentStatus) -> IntentStatus:
    if new not in _ALLOWED[current]:
        raise IllegalTransition(f"order status cannot go from {current} to {new}")
    return new


def from_venue(status: OrderStatus) -> IntentStatus:
    return _FROM_VENUE[status]


@dataclass(frozen=True)
class OrderIntent:
    """What a decision asks the order manager to do.

    cause: stable identity of the decision (e.g. "BTC/USDT|<cycle>|tp1", "plan-3|tranche-2"):
    the same cause always maps to the same client order id, so asking twice never sends twice.
    amount in base units; price (quote per base) for limit orders only.
    """

    cause: str
    kind: str
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    reason: str
    price: Decimal | None = None
    tier: int | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True)
class OrderRecord:
    """An intent as stored, with what the venue said about it."""

    client_order_id: str
    cause: str
    kind: str
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None
    tier: int | None
    reason: str
    status: IntentStatus
    exchange_order_id: str | None
    filled: Decimal
    average: Decimal | None
    fee: Decimal
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    trigger_price: Decimal | None = None
    refusal: Refusal | None = None  # set with status `rejected`
    moved_at: datetime | None = None  # a resting order amended in place (its prices or size)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def last_moved(self) -> datetime:
        """When the venue got this order's current terms: its placement, or its last amend.
        Not `updated_at`, which every lookup of the order changes."""
        return self.moved_at or self.created_at

    @property
    def retry_when_free(self) -> bool:
        """Refused only because the base was not free: a new attempt may follow."""
        return self.status is IntentStatus.REJECTED and self.refusal in RETRY_WHEN_FREE
