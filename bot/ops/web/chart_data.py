"""What each symbol's price chart on the status page shows, read from the store.

The store keeps no price series: the line joins every price it does hold (fills, the risk job's
last valuation, the prices recorded with exit decisions in the journal). Stop levels are the
exchange stops the order table recorded (trigger, from placement until it ended) and, for an
open position, today's hard and trailing stop and next tier from `qtbot status`'s view.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.ops.journal_query import journal_entries
from bot.ops.profit import KnownPrice
from bot.ops.trades import cycles, fill_label, fill_symbols, stored_fills
from bot.ops.web.chart_svg import Level, Marker, PriceChart, sparse_points
from bot.orders.intents import ACTIVE
from bot.orders.protective_stop import KIND as EXCHANGE_STOP
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from risk.position import FillSide

_DECISION_KINDS = "take_profit,trailing_stop,stop_loss,flatten"
_JOURNAL_PRICES = 500


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def _journal_points(store: Store, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
    rows = journal_entries(store, since, _DECISION_KINDS, symbol, _JOURNAL_PRICES)
    points = []
    for row in rows:
        price = _decimal(row["data"].get("price"))
        if price is not None:
            points.append((datetime.fromisoformat(row["at"]), price))
    return points


def _current_levels(
    row: dict[str, Any] | None, opened_at: datetime | None, now: datetime
) -> list[Level]:
    if row is None or opened_at is None:
        return []
    levels = []
    for key, kind, label in (
        ("hard_stop", "stop", "hard stop"),
        ("trailing_stop", "trailing", "trailing stop"),
    ):
        price = _decimal(row.get(key))
        if price is not None:
            levels.append(Level(opened_at, now, price, kind, label))  # type: ignore[arg-type]
    tier = row.get("next_tier")
    price = _decimal(tier.get("price")) if isinstance(tier, dict) else None
    if price is not None and isinstance(tier, dict):
        levels.append(Level(opened_at, now, price, "tier", f"next: tier {tier.get('tier')} at"))
    return levels


def symbol_chart(
    store: Store,
    symbol: str,
    now: datetime,
    position_row: dict[str, Any] | None,
    price: KnownPrice | None,
    records: dict[str, Any],
) -> PriceChart:
    fills = stored_fills(store, symbol)
    dust = RuntimeState(store).dust().get(symbol, Decimal(0))
    _, position = cycles(symbol, fills, dust)
    points = [(f.fill.timestamp, f.fill.price) for f in fills]
    if fills:
        points += _journal_points(store, symbol, fills[0].fill.timestamp)
    if price is not None:
        points.append((price.at, price.price))
    markers = []
    for item in fills:
        fill = item.fill
        if fill.side is FillSide.BUY:
            markers.append(Marker(fill.timestamp, fill.price, "entry", "buy", f"{fill.amount}"))
            continue
        label = fill_label(item, records)
        if label.startswith("tier "):
            markers.append(Marker(fill.timestamp, fill.price, "tier", "T" + label[5:], label))
        else:
            markers.append(Marker(fill.timestamp, fill.price, "exit", label, f"{fill.amount}"))
    levels = [
        Level(
            r.created_at,
            now if r.status in ACTIVE else r.updated_at,
            r.trigger_price,
            "exchange",
            "exchange stop",
        )
        for r in records.values()
        if r.symbol == symbol and r.kind == EXCHANGE_STOP and r.trigger_price is not None
    ]
    opened = position.opened_at if position.is_open(dust) else None
    levels += _current_levels(position_row, opened, now)
    return PriceChart(symbol, sparse_points(points), markers, levels)


def price_charts(
    store: Store, now: datetime, positions: list[dict[str, Any]], prices: dict[str, KnownPrice]
) -> list[PriceChart]:
    """One chart per symbol ever traded: open positions first, then by symbol."""
    records = {r.client_order_id: r for r in store.order_repo().all()}
    by_symbol = {row["symbol"]: row for row in positions}
    symbols = sorted(fill_symbols(store), key=lambda s: (s not in by_symbol, s))
    return [symbol_chart(store, s, now, by_symbol.get(s), prices.get(s), records) for s in symbols]
