"""Scripted order book of one symbol: the liquidity our orders trade against.

The book holds only scripted (third-party) liquidity; our own resting orders are kept apart and
filled when the scripted book crosses their price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from tests.emulator.catalog import SymbolSpec

DEFAULT_LEVELS = 5
DEFAULT_LEVEL_NOTIONAL = Decimal("50000")  # quote currency per generated level


def floor_to(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(rounding=ROUND_DOWN) * step


@dataclass(slots=True)
class Book:
    """`bids` best (highest) first, `asks` best (lowest) first; each level is [price, qty]."""

    bids: list[list[Decimal]] = field(default_factory=list)
    asks: list[list[Decimal]] = field(default_factory=list)
    last: Decimal | None = None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    def reference_price(self) -> Decimal | None:
        """Mid if both sides exist, else last trade, else whichever side exists."""
        bid, ask = self.best_bid, self.best_ask
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return self.last if self.last is not None else (bid or ask)

    def side_for_taker(self, taker_side: str) -> list[list[Decimal]]:
        """A buyer lifts asks, a seller hits bids."""
        return self.asks if taker_side == "BUY" else self.bids

    def prune(self) -> None:
        self.bids = [lv for lv in self.bids if lv[1] > 0]
        self.asks = [lv for lv in self.asks if lv[1] > 0]


def build_book(
    spec: SymbolSpec,
    bid: Decimal | None,
    ask: Decimal | None,
    *,
    levels: int = DEFAULT_LEVELS,
    qty: Decimal | None = None,
    gap: Decimal | None = None,
    last: Decimal | None = None,
) -> Book:
    """Generate `levels` levels per side from the best prices outward, `gap` apart (default
    100 ticks), each holding `qty` base (default ~50,000 quote worth)."""
    gap = gap if gap is not None else spec.tick * 100
    book = Book(last=last)
    for best, sign, target in ((bid, -1, book.bids), (ask, 1, book.asks)):
        if best is None:
            continue
        level_qty = qty if qty is not None else floor_to(DEFAULT_LEVEL_NOTIONAL / best, spec.step)
        for i in range(levels):
            price = best + sign * gap * i
            if price > 0:
                target.append([price, level_qty])
    return book


def book_from_levels(
    bids: list[list[Decimal]], asks: list[list[Decimal]], last: Decimal | None = None
) -> Book:
    """Explicit levels; sorted best first whatever order they came in."""
    book = Book(
        bids=sorted(([p, q] for p, q in bids), key=lambda lv: -lv[0]),
        asks=sorted(([p, q] for p, q in asks), key=lambda lv: lv[0]),
        last=last,
    )
    book.prune()
    return book


def default_book(spec: SymbolSpec) -> Book:
    return build_book(spec, spec.default_bid, spec.default_ask)
