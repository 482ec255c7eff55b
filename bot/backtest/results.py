"""What a replay produced: fills, orders, round trips and the equity curves, read once at the end.

Fills come from the paper engine's ledger (the venue's truth), labelled with the order
manager's intent (tranche, take_profit, stop_loss, trailing_stop, flatten; the tier). The
equity curve is rebuilt vectorised from the fills and the candle closes: cash and holdings
change only at fills, so the bot's store is read once, after the run, never per bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from bot.backtest.candles import CandleSeries, FloatArray, IntArray, to_ms
from bot.orders.intents import OrderRecord
from exchanges.base import Fill, Side

_ZERO = Decimal(0)


@dataclass(frozen=True)
class TradeFill:
    """One execution. amount in base, price/cost/fee in quote."""

    time: datetime
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    kind: str
    tier: int | None
    client_order_id: str | None

    @property
    def cost(self) -> Decimal:
        return self.amount * self.price


@dataclass(frozen=True)
class RoundTrip:
    """One position cycle of one symbol, from the first buy to flat (or still open)."""

    symbol: str
    opened: datetime
    closed: datetime | None
    bought: Decimal
    avg_entry: Decimal
    sold: Decimal
    avg_exit: Decimal | None
    fees: Decimal
    net_pnl: Decimal
    exits: tuple[str, ...]


def label_fills(fills: Sequence[Fill], records: Sequence[OrderRecord]) -> list[TradeFill]:
    by_id = {r.client_order_id: r for r in records}
    rows: list[TradeFill] = []
    for fill in fills:
        record = by_id.get(fill.client_order_id or "")
        rows.append(
            TradeFill(
                time=fill.timestamp,
                symbol=fill.symbol,
                side=fill.side,
                amount=fill.amount,
                price=fill.price,
                fee=fill.fee,
                kind=record.kind if record else "unknown",
                tier=record.tier if record else None,
                client_order_id=fill.client_order_id,
            )
        )
    return rows


def round_trips(fills: Sequence[TradeFill]) -> list[RoundTrip]:
    """Group each symbol's fills into cycles: a cycle ends when the holding is back to zero."""
    trips: list[RoundTrip] = []
    open_cycles: dict[str, list[TradeFill]] = {}
    held: dict[str, Decimal] = {}
    for fill in fills:
        cycle = open_cycles.setdefault(fill.symbol, [])
        cycle.append(fill)
        size = held.get(fill.symbol, _ZERO)
        size += fill.amount if fill.side is Side.BUY else -fill.amount
        held[fill.symbol] = size
        if size <= 0:
            trips.append(_trip(cycle, closed=True))
            open_cycles[fill.symbol] = []
    trips.extend(_trip(c, closed=False) for c in open_cycles.values() if c)
    return sorted(trips, key=lambda t: (t.opened, t.symbol))


def _trip(cycle: list[TradeFill], closed: bool) -> RoundTrip:
    buys = [f for f in cycle if f.side is Side.BUY]
    sells = [f for f in cycle if f.side is Side.SELL]
    bought = sum((f.amount for f in buys), _ZERO)
    sold = sum((f.amount for f in sells), _ZERO)
    spent = sum((f.cost for f in buys), _ZERO)
    received = sum((f.cost for f in sells), _ZERO)
    fees = sum((f.fee for f in cycle), _ZERO)
    avg_entry = spent / bought if bought > 0 else _ZERO
    # An open cycle's PnL counts only what was sold (the rest is valued in the equity curve).
    pnl = received - avg_entry * sold - fees
    exits = tuple(f.kind if f.tier is None else f"{f.kind}{f.tier}" for f in sells)
    return RoundTrip(
        symbol=cycle[0].symbol,
        opened=cycle[0].time,
        closed=cycle[-1].time if closed else None,
        bought=bought,
        avg_entry=avg_entry,
        sold=sold,
        avg_exit=received / sold if sold > 0 else None,
        fees=fees,
        net_pnl=pnl,
        exits=exits,
    )


@dataclass(frozen=True)
class EquityCurve:
    """Equity (quote) at every bar close in the replay; `exposed` = a position was held at
    some time in the interval ending there (fills inside a candle are stamped at its open)."""

    times: IntArray
    strategy: FloatArray
    buy_hold: FloatArray
    exposed: FloatArray


def _grid(series: Sequence[CandleSeries]) -> IntArray:
    """Every bar close of any series, once, in order. Each series is sorted already, so a
    stable sort (merging runs) and dropping repeats beats `np.unique`'s hashing 10x."""
    merged = np.sort(np.concatenate([s.end_ts for s in series]), kind="stable")
    keep = np.ones(merged.shape, dtype=bool)
    keep[1:] = merged[1:] != merged[:-1]
    return merged[keep]


def _prices_at(s: CandleSeries, grid: IntArray) -> FloatArray:
    """Close of the last bar closed at each grid time; before the first, its open."""
    index = np.searchsorted(s.end_ts, grid, "right") - 1
    return np.where(index >= 0, s.close[np.maximum(index, 0)], s.open[0])


def equity_curve(
    series: Sequence[CandleSeries],
    fills: Sequence[TradeFill],
    cash: float,
    buy_hold_amounts: dict[str, float],
    buy_hold_cash: float,
) -> EquityCurve:
    """`series` are the replayed bars; fills count from the bar close after their time."""
    grid = _grid(series)
    strategy = np.full(grid.shape, cash, dtype=np.float64)
    buy_hold = np.full(grid.shape, buy_hold_cash, dtype=np.float64)
    exposed = np.zeros(grid.shape, dtype=np.float64)
    times = np.array([to_ms(f.time) for f in fills], dtype=np.int64)
    # Cash moves by -cost-fee for a buy and +cost-fee for a sell.
    flows = np.array(
        [float(-(f.cost + f.fee) if f.side is Side.BUY else f.cost - f.fee) for f in fills],
        dtype=np.float64,
    )
    after = np.searchsorted(times, grid, "left") - 1 if times.size else None
    if times.size and after is not None:
        strategy += np.where(after >= 0, np.cumsum(flows)[np.maximum(after, 0)], 0.0)
    for s in series:
        price = _prices_at(s, grid)
        buy_hold += buy_hold_amounts.get(s.symbol, 0.0) * price
        mine = [f for f in fills if f.symbol == s.symbol]
        if not mine:
            continue
        size = holding_at(grid, mine)
        strategy += size * price
        exposed = np.maximum(exposed, held_in_interval(size))
    return EquityCurve(grid, strategy, buy_hold, exposed)


def holding_at(grid: IntArray, fills: Sequence[TradeFill]) -> FloatArray:
    """Base held at each grid time (ms) from one symbol's `fills` (a fill counts from the
    first grid time after it)."""
    if not fills:
        return np.zeros(grid.shape, dtype=np.float64)
    at = np.array([to_ms(f.time) for f in fills], dtype=np.int64)
    delta = np.array(
        [float(f.amount if f.side is Side.BUY else -f.amount) for f in fills], dtype=np.float64
    )
    index = np.searchsorted(at, grid, "left") - 1
    return np.where(index >= 0, np.cumsum(delta)[np.maximum(index, 0)], 0.0)


def held_in_interval(size: FloatArray) -> FloatArray:
    """1.0 where a position was held at some time in the interval ending at each grid time:
    at its start (the previous close) or at its end; else 0.0."""
    before = np.concatenate(([0.0], size[:-1]))
    return ((size > 1e-12) | (before > 1e-12)).astype(np.float64)


def tier_counts(fills: Sequence[TradeFill]) -> dict[str, int]:
    """How many exit orders of each kind filled (a tier sale split in fills counts once)."""
    seen: dict[str, set[str]] = {}
    for fill in fills:
        if fill.side is not Side.SELL:
            continue
        key = fill.kind if fill.tier is None else f"{fill.kind}_tier{fill.tier}"
        seen.setdefault(key, set()).add(fill.client_order_id or f"{fill.time}")
    return {key: len(ids) for key, ids in sorted(seen.items())}
