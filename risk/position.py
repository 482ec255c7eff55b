"""A position per symbol, rebuilt from its fills alone.

Accounting (all quote amounts in the quote currency, base amounts in the base asset):

- `avg_entry_price` is the volume-weighted price of what is held, fees excluded. Buys move it,
  sells do not (selling at any price leaves the cost per remaining unit unchanged).
- `realized_pnl` is `sum((sell price - avg entry) * sold amount)` over the cycle, before fees.
- `fees` is every fee (buys and sells) paid in the cycle, in quote.
- net PnL of the cycle at a price = `realized_pnl + unrealized_pnl(price) - fees`.

A *cycle* starts with the first buy from flat and ends when a sell leaves at most `dust` base
units. The next buy starts a new cycle: tiers taken, fees, realized PnL and the "original size"
(`cycle_bought`) start again; a dust residual is carried into the new cycle's holding.
`cycle_id` is the fill id of the cycle's first buy, so it is the same after every replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter, is_

_ZERO = Decimal(0)
_ONE = Decimal(1)


class FillSide(StrEnum):
    """Same values as `exchanges.base.Side`, so `FillSide(side.value)` converts."""

    BUY = "buy"
    SELL = "sell"


class FillRejected(ValueError):
    """A fill that cannot be applied to the position (it would make the books wrong)."""


@dataclass(frozen=True, slots=True)
class PositionFill:
    """One execution as the risk rules see it.

    amount: base units (> 0); price: quote per base (> 0); fee: quote (>= 0; convert a fee
    charged in base or in another asset before building this). `tier` (1-based) is set on the
    sell fills of a take-profit order for that tier; `reason` is free text for the journal.
    """

    fill_id: str
    side: FillSide
    amount: Decimal
    price: Decimal
    fee: Decimal
    timestamp: datetime
    tier: int | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        for name in ("amount", "price", "fee"):
            if not isinstance(getattr(self, name), Decimal):
                raise TypeError(f"PositionFill.{name} must be Decimal (fill {self.fill_id})")
        if not self.fill_id:
            raise ValueError("PositionFill.fill_id must not be empty")
        if not isinstance(self.side, FillSide):
            object.__setattr__(self, "side", FillSide(self.side))
        if not self.amount.is_finite() or self.amount <= 0:
            raise ValueError(f"fill {self.fill_id}: amount must be > 0, got {self.amount}")
        if not self.price.is_finite() or self.price <= 0:
            raise ValueError(f"fill {self.fill_id}: price must be > 0, got {self.price}")
        if not self.fee.is_finite() or self.fee < 0:
            raise ValueError(f"fill {self.fill_id}: fee must be >= 0, got {self.fee}")
        if self.timestamp.tzinfo is None:
            raise ValueError(f"fill {self.fill_id}: timestamp must be timezone-aware")
        if self.tier is not None:
            if self.side is not FillSide.SELL:
                raise ValueError(f"fill {self.fill_id}: only sell fills can carry a tier")
            if self.tier < 1:
                raise ValueError(f"fill {self.fill_id}: tier is 1-based, got {self.tier}")


@dataclass(frozen=True, slots=True)
class Position:
    """State of one symbol derived from its fills; see the module docstring for the accounting.

    size: base held now. cycle_bought: base bought in the current cycle (the "original size"
    tier percentages refer to). peak_fill_price: highest fill price in the cycle, a lower bound
    of the high-water mark that survives losing the persisted marks.
    """

    symbol: str
    size: Decimal = _ZERO
    avg_entry_price: Decimal = _ZERO
    fees: Decimal = _ZERO
    realized_pnl: Decimal = _ZERO
    cycle_id: str | None = None
    cycle_open: bool = False
    cycle_bought: Decimal = _ZERO
    cycle_sold: Decimal = _ZERO
    tiers_taken: frozenset[int] = frozenset()
    opened_at: datetime | None = None
    last_fill_at: datetime | None = None
    peak_fill_price: Decimal = _ZERO
    fill_ids: frozenset[str] = field(default=frozenset(), repr=False)

    def is_open(self, dust: Decimal = _ZERO) -> bool:
        """True while a cycle is running and more than `dust` base units are held."""
        return self.cycle_open and self.size > dust

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        """Quote PnL of the holding at `price`, before fees."""
        return (price - self.avg_entry_price) * self.size

    def net_pnl(self, price: Decimal) -> Decimal:
        """Quote PnL of the whole cycle at `price`: realized + unrealized - all cycle fees."""
        return self.realized_pnl + self.unrealized_pnl(price) - self.fees

    def gain(self, price: Decimal) -> Decimal:
        """Fractional gain of `price` over the average entry (0.2 = +20 %)."""
        if self.avg_entry_price <= 0:
            return _ZERO
        return price / self.avg_entry_price - _ONE

    @property
    def break_even_price(self) -> Decimal:
        """Average entry plus every fee paid in the cycle spread over what is still held."""
        if self.size <= 0:
            return self.avg_entry_price
        return self.avg_entry_price + self.fees / self.size

    @property
    def cost_basis(self) -> Decimal:
        """Quote paid for what is held, fees excluded."""
        return self.avg_entry_price * self.size


def apply_fill(position: Position, fill: PositionFill, dust: Decimal = _ZERO) -> Position:
    """Return the position after `fill`; a fill id already applied returns `position` unchanged.

    `dust` (base units) must be the same value the risk engine uses for this symbol
    (`RiskParams.dust_for(symbol)`). A sell larger than the holding raises `FillRejected`:
    the fill history is inconsistent and guessing would corrupt every later decision.
    """
    if fill.fill_id in position.fill_ids:
        return position
    fill_ids = position.fill_ids | {fill.fill_id}
    if fill.side is FillSide.BUY:
        return _apply_buy(position, fill, fill_ids)
    return _apply_sell(position, fill, fill_ids, dust)


def _apply_buy(position: Position, fill: PositionFill, fill_ids: frozenset[str]) -> Position:
    # Built field by field, not with dataclasses.replace (twice the cost): a backtest applies
    # hundreds of fills a trial. Every field is named here and in `_apply_sell`; a new field
    # must be carried by both (tests/unit/risk/test_position_fields.py counts them).
    cost = position.avg_entry_price * position.size + fill.price * fill.amount
    size = position.size + fill.amount
    avg = cost / size
    if not position.cycle_open:
        return Position(
            symbol=position.symbol,
            size=size,
            avg_entry_price=avg,
            fees=fill.fee,
            realized_pnl=_ZERO,
            cycle_id=fill.fill_id,
            cycle_open=True,
            cycle_bought=fill.amount,
            cycle_sold=_ZERO,
            tiers_taken=frozenset(),
            opened_at=fill.timestamp,
            last_fill_at=fill.timestamp,
            peak_fill_price=fill.price,
            fill_ids=fill_ids,
        )
    return Position(
        symbol=position.symbol,
        size=size,
        avg_entry_price=avg,
        fees=position.fees + fill.fee,
        realized_pnl=position.realized_pnl,
        cycle_id=position.cycle_id,
        cycle_open=position.cycle_open,
        cycle_bought=position.cycle_bought + fill.amount,
        cycle_sold=position.cycle_sold,
        tiers_taken=position.tiers_taken,
        opened_at=position.opened_at,
        last_fill_at=fill.timestamp,
        peak_fill_price=max(position.peak_fill_price, fill.price),
        fill_ids=fill_ids,
    )


def _apply_sell(
    position: Position, fill: PositionFill, fill_ids: frozenset[str], dust: Decimal
) -> Position:
    if fill.amount > position.size:
        raise FillRejected(
            f"sell fill {fill.fill_id} of {fill.amount} {position.symbol} exceeds the "
            f"{position.size} held"
        )
    size = position.size - fill.amount
    tiers = position.tiers_taken
    if fill.tier is not None and position.cycle_open:
        tiers = tiers | {fill.tier}
    return Position(
        symbol=position.symbol,
        size=size,
        avg_entry_price=position.avg_entry_price,
        fees=position.fees + fill.fee,
        realized_pnl=position.realized_pnl + (fill.price - position.avg_entry_price) * fill.amount,
        cycle_id=position.cycle_id,
        cycle_open=position.cycle_open and size > dust,
        cycle_bought=position.cycle_bought,
        cycle_sold=position.cycle_sold + fill.amount,
        tiers_taken=tiers,
        opened_at=position.opened_at,
        last_fill_at=fill.timestamp,
        peak_fill_price=max(position.peak_fill_price, fill.price),
        fill_ids=fill_ids,
    )


def position_from_fills(
    symbol: str, fills: Iterable[PositionFill], dust: Decimal = _ZERO
) -> Position:
    """Replay `fills` (any order; sorted by timestamp, ties keep their given order)."""
    position = Position(symbol=symbol)
    for fill in sorted(fills, key=_fill_time):
        position = apply_fill(position, fill, dust)
    return position


# The sort key of a replay (a C getter: a backtest sorts a symbol's fills after each new one).
_fill_time = attrgetter("timestamp")


class PositionReplay:
    """`position_from_fills(symbol, fills, dust)` for a growing fill list, without replaying
    what it already replayed.

    A backtest asks for a symbol's position after every new fill, and a full replay of
    hundreds of fills each time was a fifth of its run time. When the sorted fills start with
    the very objects (identity, not equality: equal Decimals can differ in exponent) of the
    previous call's, only the rest is applied to the kept position: the same fold over the same
    sequence, so the same `Position`. Anything else (a fill inserted earlier, other objects,
    a rejected fill) replays from scratch, exactly as `position_from_fills` does.
    """

    __slots__ = ("_applied", "_position", "dust", "symbol")

    def __init__(self, symbol: str, dust: Decimal = _ZERO) -> None:
        self.symbol = symbol
        self.dust = dust
        self._applied: list[PositionFill] = []
        self._position = Position(symbol=symbol)

    def position(self, fills: Iterable[PositionFill]) -> Position:
        ordered = sorted(fills, key=_fill_time)
        done = len(self._applied)
        if done <= len(ordered) and all(map(is_, ordered, self._applied)):
            position, rest = self._position, ordered[done:]
        else:
            position, rest = Position(symbol=self.symbol), ordered
        for fill in rest:
            position = apply_fill(position, fill, self.dust)
        self._applied, self._position = ordered, position
        return position
