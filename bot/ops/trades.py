"""Closed round trips read from the store's fills: what `qtbot trades` and the status page list.

A round trip is one position cycle as `risk.position` defines it: it opens with the first buy
from flat and closes when a sell leaves at most the symbol's dust (the minimum the risk job
last stored). Fees are in quote (a fee charged in base is converted at the fill price, and a
buy's base fee reduces what was bought, as `OrderRepo.position_fill` does for the risk rules).

P&L of a trip = sum((sell price - average entry) * sold) - every fee of the cycle, in quote;
`pnl_pct` is that P&L over the quote paid for the buys (fees excluded).

The backtest's `bot.backtest.results.round_trips` groups fills the same way for a replay; it
sits a layer above and works on the paper ledger's fills, so this module does not share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, select

from bot.orders.intents import OrderRecord
from bot.state.models import FillRow
from bot.state.orders_repo import position_fill, venue_order
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from risk.position import FillSide, Position, PositionFill, apply_fill

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)

# Order kinds (OrderIntent.kind) of the sells that end or shrink a position, as people say them.
_EXIT_LABELS = {
    "trailing_stop": "trailing",
    "stop_loss": "hard stop",
    "exchange_stop": "exchange stop",
    "flatten": "kill switch",
    "panic": "panic",
    "manual": "manual",
}


@dataclass(frozen=True)
class TradeFill:
    """One stored fill with what the risk rules see and the order it belongs to."""

    fill: PositionFill
    client_order_id: str | None


@dataclass(frozen=True)
class ClosedTrade:
    """One closed position cycle. Amounts in base, prices and money in quote.

    amount: base bought in the cycle (net of base fees); entry_avg / exit_avg: volume-weighted
    fill prices of the buys / sells; fees: every fee of the cycle in quote; pnl: net of fees;
    pnl_pct: pnl over the quote paid for the buys, in percent. reason: why the last sale
    happened (`tier 2`, `trailing`, `hard stop`, `break-even`, `exchange stop`, `kill switch`,
    `panic`, `manual`); exits: the reason of each sell order, in order.
    """

    symbol: str
    cycle_id: str
    entry_at: datetime
    exit_at: datetime
    entry_avg: Decimal
    exit_avg: Decimal
    amount: Decimal
    fees: Decimal
    pnl: Decimal
    pnl_pct: Decimal
    reason: str
    exits: tuple[str, ...]
    buys: int
    sells: int


def exit_label(kind: str | None, tier: int | None, reason: str = "") -> str:
    """A sell's reason as people say it; a fill no intent of ours explains is `manual`."""
    if kind is None:
        return "manual"
    if kind == "take_profit":
        return f"tier {tier}" if tier is not None else "take profit"
    if kind == "stop_loss" and reason.startswith("break-even"):
        return "break-even"
    return _EXIT_LABELS.get(kind, kind.replace("_", " "))


def stored_fills(store: Store, symbol: str) -> list[TradeFill]:
    """The symbol's fills in venue order, as `OrderRepo.position_fills` reads them, each with
    its client order id (which the risk rules' view drops)."""
    with Session(store.engine) as session:
        rows = session.exec(select(FillRow).where(FillRow.symbol == symbol)).all()
        return [
            TradeFill(position_fill(row), row.client_order_id)
            for row in sorted(rows, key=venue_order)
        ]


def fill_symbols(store: Store) -> list[str]:
    return store.order_repo().fill_symbols()


def fill_label(item: TradeFill, records: dict[str, OrderRecord]) -> str:
    """Why this sale happened (`exit_label` of the order it filled)."""
    record = records.get(item.client_order_id or "")
    if record is None:
        return exit_label(item.fill.reason, item.fill.tier)
    return exit_label(record.kind, record.tier, record.reason)


def _trade(
    symbol: str, cycle: list[TradeFill], position: Position, records: dict[str, OrderRecord]
) -> ClosedTrade:
    buys = [c.fill for c in cycle if c.fill.side is FillSide.BUY]
    sells = [c for c in cycle if c.fill.side is FillSide.SELL]
    bought = sum((f.amount for f in buys), _ZERO)
    spent = sum((f.amount * f.price for f in buys), _ZERO)
    sold = sum((c.fill.amount for c in sells), _ZERO)
    received = sum((c.fill.amount * c.fill.price for c in sells), _ZERO)
    pnl = position.realized_pnl - position.fees
    labels: list[str] = []
    seen: set[str] = set()
    for item in sells:
        # A sale filled in several pieces is one exit.
        key = item.client_order_id or item.fill.fill_id
        if key not in seen:
            seen.add(key)
            labels.append(fill_label(item, records))
    return ClosedTrade(
        symbol=symbol,
        cycle_id=position.cycle_id or cycle[0].fill.fill_id,
        entry_at=cycle[0].fill.timestamp,
        exit_at=cycle[-1].fill.timestamp,
        entry_avg=spent / bought if bought > 0 else _ZERO,
        exit_avg=received / sold if sold > 0 else _ZERO,
        amount=bought,
        fees=position.fees,
        pnl=pnl,
        pnl_pct=pnl / spent * _HUNDRED if spent > 0 else _ZERO,
        reason=labels[-1] if labels else "manual",
        exits=tuple(labels),
        buys=len(buys),
        sells=len(seen),
    )


def cycles(
    symbol: str, fills: Iterable[TradeFill], dust: Decimal
) -> tuple[list[tuple[list[TradeFill], Position]], Position]:
    """Split a symbol's fills into closed cycles (with the position as each one closed) and
    return the position after the last fill (open or flat)."""
    position = Position(symbol=symbol)
    closed: list[tuple[list[TradeFill], Position]] = []
    current: list[TradeFill] = []
    for item in fills:
        was_open = position.cycle_open
        position = apply_fill(position, item.fill, dust)
        current.append(item)
        if was_open and not position.cycle_open:
            closed.append((current, position))
            current = []
        elif not position.cycle_open and item.fill.side is FillSide.SELL:
            current = []  # a sale of a dust remainder belongs to no cycle
    return closed, position


def closed_trades(store: Store, since: datetime | None = None) -> list[ClosedTrade]:
    """Every closed round trip, oldest exit first; `since`: only trips that closed at or after
    it (an aware time)."""
    dust_by_symbol = RuntimeState(store).dust()
    records = {r.client_order_id: r for r in store.order_repo().all()}
    trades: list[ClosedTrade] = []
    for symbol in fill_symbols(store):
        dust = dust_by_symbol.get(symbol, _ZERO)
        closed, _ = cycles(symbol, stored_fills(store, symbol), dust)
        trades.extend(_trade(symbol, cycle, position, records) for cycle, position in closed)
    trades.sort(key=lambda t: (t.exit_at, t.symbol))
    if since is not None:
        trades = [t for t in trades if t.exit_at >= since]
    return trades


def plain(value: Decimal, places: int) -> str:
    """A Decimal rounded half up to `places` as plain text, trailing zeros dropped ("1.5")."""
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def trade_dict(t: ClosedTrade) -> dict[str, Any]:
    """A trade as JSON-ready values: Decimals as exact-enough text, times as ISO 8601 UTC."""
    return {
        "symbol": t.symbol,
        "cycle_id": t.cycle_id,
        "entry_at": t.entry_at.isoformat(),
        "exit_at": t.exit_at.isoformat(),
        "entry_avg": plain(t.entry_avg, 8),
        "exit_avg": plain(t.exit_avg, 8),
        "amount": plain(t.amount, 8),
        "fees": plain(t.fees, 8),
        "pnl": plain(t.pnl, 8),
        "pnl_pct": plain(t.pnl_pct, 2),
        "reason": t.reason,
        "exits": list(t.exits),
        "buys": t.buys,
        "sells": t.sells,
        "held_seconds": int((t.exit_at - t.entry_at).total_seconds()),
    }
