"""What the risk engine asks the order manager to do: typed, frozen, with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class ActionKind(StrEnum):
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    STOP_LOSS = "stop_loss"
    FLATTEN = "flatten"


EXIT_KINDS = frozenset({ActionKind.TRAILING_STOP, ActionKind.STOP_LOSS, ActionKind.FLATTEN})


@dataclass(frozen=True, slots=True)
class Action:
    """Sell `amount` base units of `symbol` (never more than held), for `reason`.

    trigger_price: the level that was crossed (tier price, stop level); for FLATTEN the
    observed price. price: the observed price the decision was made at. tier: 1-based tier
    index for TAKE_PROFIT, else None. cycle_id: the position cycle the action belongs to.
    """

    kind: ActionKind
    symbol: str
    amount: Decimal
    trigger_price: Decimal
    price: Decimal
    tier: int | None
    cycle_id: str
    reason: str

    @property
    def key(self) -> str:
        """Stable identity of the intent, for deterministic client order ids.

        The engine re-emits an action on every tick until its fill arrives; the key is the same
        each time. All exits of a cycle share one key: they all mean "sell everything".
        """
        suffix = f"tp{self.tier}" if self.kind is ActionKind.TAKE_PROFIT else "exit"
        return f"{self.symbol}|{self.cycle_id}|{suffix}"

    @property
    def is_exit(self) -> bool:
        return self.kind in EXIT_KINDS
