"""The paper account's state and the `PaperLedger` protocol that keeps it.

The engine computes every state change in memory as one `LedgerChange` (the order's new state,
its new fills and the new balances of the assets it touched) and hands it to `apply`, which
must make it durable all-or-nothing. `InMemoryPaperLedger` is the backtest ledger;
`exchanges.paper.store.SqlPaperLedger` persists to a database.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from exchanges.base import Fill, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """`free` is spendable, `used` is reserved by open orders; both in the asset's units."""

    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.used


@dataclass(frozen=True, slots=True)
class PaperOrder:
    """An order plus the paper engine's bookkeeping.

    `seq` is the acceptance sequence (time priority). `reserved` is what the order still holds
    of `reserve_asset` (quote for a buy, base for a sell). A buy limit reserves
    ``price * (1 + reserve_fee)`` per unit so any fill, taker or maker, is covered.
    `filled_cost` is the exact quote notional filled so far (`Order.average` is derived).
    """

    order: Order
    seq: int
    reserve_asset: str
    reserved: Decimal
    reserve_fee: Decimal
    filled_cost: Decimal


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """One atomic state change: order accepted, filled, expired or canceled."""

    order: PaperOrder
    fills: tuple[Fill, ...] = ()
    balances: Mapping[str, AssetBalance] = field(default_factory=dict)


# Allowed status transitions; None = the order is new. Terminal states allow nothing.
_TRANSITIONS: dict[OrderStatus | None, frozenset[OrderStatus]] = {
    None: frozenset({OrderStatus.OPEN, OrderStatus.CLOSED, OrderStatus.EXPIRED}),
    OrderStatus.OPEN: frozenset({OrderStatus.OPEN, OrderStatus.CLOSED, OrderStatus.CANCELED}),
}


class IllegalTransition(ValueError):
    """A change the order's current status does not allow (an engine bug, never user input)."""


def check_transition(before: PaperOrder | None, after: PaperOrder) -> None:
    status = before.order.status if before is not None else None
    if after.order.status not in _TRANSITIONS.get(status, frozenset()):
        raise IllegalTransition(
            f"order {after.order.client_order_id}: {status} -> {after.order.status} not allowed"
        )


def check_transitions(orders: Mapping[str, PaperOrder], changes: Sequence[LedgerChange]) -> None:
    """Check a batch of changes in order, each against the state the previous ones leave."""
    seen: dict[str, PaperOrder] = {}
    for change in changes:
        cid = change.order.order.client_order_id
        check_transition(seen.get(cid, orders.get(cid)), change.order)
        seen[cid] = change.order


class PaperLedger(Protocol):
    def seed_balances(self, balances: Mapping[str, Decimal]) -> bool:
        """Set starting balances if the ledger has never been used; True if it did."""
        ...

    def balances(self) -> dict[str, AssetBalance]: ...

    def get_order(self, client_order_id: str) -> PaperOrder | None: ...

    def open_orders(self, symbol: str | None = None) -> list[PaperOrder]:
        """Open orders in acceptance order."""
        ...

    def fills(self, symbol: str | None = None, since: datetime | None = None) -> list[Fill]:
        """Fills in execution order, at or after `since` when given."""
        ...

    def order_count(self) -> int: ...

    def fill_count(self) -> int: ...

    def apply(self, change: LedgerChange) -> None:
        """Make the change durable all-or-nothing; IllegalTransition if the status move is
        not allowed."""
        ...

    def apply_all(self, changes: Sequence[LedgerChange]) -> None:
        """Several changes (of different orders) durable together, all-or-nothing: a stop
        replaced by cancel + accept never survives a crash half-done."""
        ...


class InMemoryPaperLedger:
    """Ledger held in dicts: backtests and benchmarks (nothing survives the process).

    The fill sync asks for one symbol's fills since a cursor on every job run; scanning every
    fill of the account each time grew with the backtest. Fills are also kept per symbol with
    their times, so while a symbol's fills arrive in time order (always, in a replay) the
    answer is a slice found by bisection: the same fills, in the same order, as the scan.
    """

    def __init__(self) -> None:
        self._balances: dict[str, AssetBalance] = {}
        self._orders: dict[str, PaperOrder] = {}
        self._open: dict[str, PaperOrder] = {}
        self._fills: list[Fill] = []
        self._by_symbol: dict[str, list[Fill]] = {}
        self._times: dict[str, list[datetime]] = {}
        self._out_of_order: set[str] = set()  # symbols whose fill times ever went back
        self._used = False

    @classmethod
    def from_state(
        cls,
        balances: Mapping[str, AssetBalance],
        orders: list[PaperOrder],
        fills: list[Fill],
    ) -> InMemoryPaperLedger:
        """A ledger holding saved state; `orders` and `fills` in their original sequence."""
        ledger = cls()
        ledger._used = True
        ledger._balances = dict(balances)
        for paper_order in orders:
            ledger.restore(LedgerChange(order=paper_order))
        ledger._keep_fills(fills)
        return ledger

    def seed_balances(self, balances: Mapping[str, Decimal]) -> bool:
        if self._used:
            return False
        self._balances = {a: AssetBalance(free=v, used=Decimal(0)) for a, v in balances.items()}
        self._used = True
        return True

    def balances(self) -> dict[str, AssetBalance]:
        return dict(self._balances)

    def get_order(self, client_order_id: str) -> PaperOrder | None:
        return self._orders.get(client_order_id)

    def open_orders(self, symbol: str | None = None) -> list[PaperOrder]:
        if symbol is None:
            return list(self._open.values())
        return [o for o in self._open.values() if o.order.symbol == symbol]

    def fills(self, symbol: str | None = None, since: datetime | None = None) -> list[Fill]:
        if symbol is not None:
            mine = self._by_symbol.get(symbol, [])
            if since is None or not mine:
                return list(mine)
            if symbol not in self._out_of_order:
                return mine[bisect_left(self._times[symbol], since) :]
            return [f for f in mine if f.timestamp >= since]
        return [f for f in self._fills if since is None or f.timestamp >= since]

    def _keep_fills(self, fills: Iterable[Fill]) -> None:
        for fill in fills:
            self._fills.append(fill)
            mine = self._by_symbol.setdefault(fill.symbol, [])
            times = self._times.setdefault(fill.symbol, [])
            if times and fill.symbol not in self._out_of_order:
                try:
                    if fill.timestamp < times[-1]:
                        self._out_of_order.add(fill.symbol)
                except TypeError:  # naive next to aware: leave the comparing to the scan
                    self._out_of_order.add(fill.symbol)
            mine.append(fill)
            times.append(fill.timestamp)

    def order_count(self) -> int:
        return len(self._orders)

    def fill_count(self) -> int:
        return len(self._fills)

    def apply(self, change: LedgerChange) -> None:
        check_transition(self._orders.get(change.order.order.client_order_id), change.order)
        self.restore(change)

    def apply_all(self, changes: Sequence[LedgerChange]) -> None:
        check_transitions(self._orders, changes)
        for change in changes:
            self.restore(change)

    def restore(self, change: LedgerChange) -> None:
        """Apply without the transition check: for a persistent ledger after its own check
        and commit."""
        self._used = True
        paper_order = change.order
        cid = paper_order.order.client_order_id
        self._orders[cid] = paper_order
        if paper_order.order.is_open:
            self._open[cid] = paper_order
        else:
            self._open.pop(cid, None)
        self._keep_fills(change.fills)
        self._balances.update(change.balances)
