"""Realised and unrealised P&L, win rate, per symbol, against buy-and-hold: `qtbot profit`.

Read from the store alone, so it works with the daemon stopped and the market unreachable.

- realised: closed round trips (net of all their fees) plus what tier sales of a still-open
  cycle gained over its average entry; an open cycle's fees are charged to its unrealised part
  until it closes, so realised + unrealised = the net P&L of everything traded.
- unrealised: (last price - average entry) * held - the open cycle's fees.
- last price: the newest price the store knows for the symbol, either the risk job's last
  valuation or the symbol's last fill, with its time and age (it can be old: say so).
- buy-and-hold: the quote paid for the symbol's first cycle, spent at the first entry's price
  and held until the last price. The strategy's P&L is put over that same amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from bot.config.settings import Settings
from bot.config.values import parse_balances
from bot.ops.trades import ClosedTrade, closed_trades, cycles, fill_symbols, plain, stored_fills
from bot.state.models import KeyValue
from bot.state.runtime_state import LAST_PRICES_KEY, RuntimeState
from bot.state.store import Store
from exchanges.paper.store import stored_balances
from risk.position import FillSide, Position

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class KnownPrice:
    price: Decimal
    at: datetime
    source: str  # "risk job" (the last valuation) or "last fill"


def known_prices(store: Store) -> dict[str, KnownPrice]:
    """The newest price the store holds per symbol: the risk job's last valuation of the open
    positions or the symbol's newest fill, whichever is more recent."""
    prices: dict[str, KnownPrice] = {}
    for symbol in fill_symbols(store):
        fills = stored_fills(store, symbol)
        if fills:
            last = max(fills, key=lambda f: f.fill.timestamp).fill
            prices[symbol] = KnownPrice(last.price, last.timestamp, "last fill")
    with Session(store.engine) as session:
        row = session.get(KeyValue, LAST_PRICES_KEY)
        valued_at = row.updated_at if row is not None else None
    if valued_at is not None:
        for symbol, price in RuntimeState(store).last_prices().items():
            known = prices.get(symbol)
            if known is None or valued_at >= known.at:
                prices[symbol] = KnownPrice(price, valued_at, "risk job")
    return prices


def _pct(part: Decimal, whole: Decimal) -> str | None:
    return plain(part / whole * _HUNDRED, 2) if whole > 0 else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else plain(value, 8)


@dataclass(frozen=True)
class _SymbolFigures:
    symbol: str
    trades: list[ClosedTrade]
    open_position: Position
    first_entry_at: datetime | None
    first_entry_price: Decimal | None
    first_cycle_cost: Decimal
    price: KnownPrice | None


def _figures(
    store: Store, symbol: str, trades: list[ClosedTrade], dust: Decimal, price: KnownPrice | None
) -> _SymbolFigures:
    fills = stored_fills(store, symbol)
    closed, position = cycles(symbol, fills, dust)
    first_buy = next((f.fill for f in fills if f.fill.side is FillSide.BUY), None)
    first_cycle = closed[0][0] if closed else fills
    cost = sum(
        (f.fill.amount * f.fill.price for f in first_cycle if f.fill.side is FillSide.BUY), _ZERO
    )
    return _SymbolFigures(
        symbol,
        trades,
        position,
        first_buy.timestamp if first_buy else None,
        first_buy.price if first_buy else None,
        cost,
        price,
    )


def _symbol_view(fig: _SymbolFigures, dust: Decimal, now: datetime) -> dict[str, Any]:
    position, price = fig.open_position, fig.price
    is_open = position.is_open(dust)
    realised = sum((t.pnl for t in fig.trades), _ZERO)
    unrealised: Decimal | None = _ZERO
    if is_open:
        realised += position.realized_pnl
        unrealised = None if price is None else position.unrealized_pnl(price.price) - position.fees
    wins = sum(1 for t in fig.trades if t.pnl > 0)
    losses = sum(1 for t in fig.trades if t.pnl < 0)
    total = None if unrealised is None else realised + unrealised
    hold_pnl = None
    if price is not None and fig.first_entry_price:
        hold_pnl = fig.first_cycle_cost * (price.price / fig.first_entry_price - 1)
    return {
        "symbol": fig.symbol,
        "trades": len(fig.trades),
        "wins": wins,
        "losses": losses,
        "win_rate_pct": _pct(Decimal(wins), Decimal(len(fig.trades))),
        "realised_pnl": _money(realised),
        "unrealised_pnl": _money(unrealised),
        "total_pnl": _money(total),
        "fees": _money(
            sum((t.fees for t in fig.trades), _ZERO) + (position.fees if is_open else _ZERO)
        ),
        "open_size": _money(position.size if is_open else _ZERO),
        "avg_entry": _money(position.avg_entry_price) if is_open else None,
        "last_price": None if price is None else _money(price.price),
        "price_at": None if price is None else price.at.isoformat(),
        "price_age_seconds": None if price is None else int((now - price.at).total_seconds()),
        "price_source": None if price is None else price.source,
        "first_entry_at": None if fig.first_entry_at is None else fig.first_entry_at.isoformat(),
        "first_entry_price": _money(fig.first_entry_price),
        "buy_hold_invested": _money(fig.first_cycle_cost),
        "buy_hold_pnl": _money(hold_pnl),
        "buy_hold_pct": None if hold_pnl is None else _pct(hold_pnl, fig.first_cycle_cost),
        "strategy_pct": None if total is None else _pct(total, fig.first_cycle_cost),
    }


def _sum(rows: list[dict[str, Any]], key: str) -> Decimal | None:
    values = [row[key] for row in rows]
    if any(v is None for v in values):
        return None
    return sum((Decimal(v) for v in values), _ZERO)


def paper_cash(settings: Settings, store: Store) -> Decimal | None:
    """The paper account's quote balance (free and reserved) from its ledger in the store;
    None outside paper mode or before the paper engine first ran."""
    if settings.exchange.mode != "paper":
        return None
    # None too when there is no ledger yet: the daemon never ran in paper mode here.
    return stored_balances(store.engine).get(settings.strategy.quote_currency)


def account_view(
    settings: Settings, store: Store, now: datetime, prices: dict[str, KnownPrice] | None = None
) -> dict[str, Any]:
    """Cash and equity in quote, also with the daemon stopped: the paper ledger's cash (paper
    mode) or the risk job's last recorded cash, plus open positions at their known prices."""
    prices = known_prices(store) if prices is None else prices
    point = store.current_equity()
    cash = paper_cash(settings, store)
    source = "paper ledger"
    if cash is None and point is not None and point.cash is not None:
        cash, source = point.cash, "risk job"
    if cash is None:
        start = parse_balances(settings.exchange.paper_starting_balance)
        if settings.exchange.mode == "paper" and not fill_symbols(store):
            cash, source = start.get(settings.strategy.quote_currency), "paper start balance"
    dust_by_symbol = RuntimeState(store).dust()
    holdings = _ZERO
    priced = True
    for symbol in fill_symbols(store):
        dust = dust_by_symbol.get(symbol, _ZERO)
        _, position = cycles(symbol, stored_fills(store, symbol), dust)
        if not position.is_open(dust):
            continue
        known = prices.get(symbol)
        if known is None:
            priced = False
        else:
            holdings += position.size * known.price
    equity = cash + holdings if cash is not None and priced else None
    equity_source = "cash + positions at their last price"
    if equity is None and point is not None:
        equity, equity_source = point.equity, "risk job"
    return {
        "cash": _money(cash),
        "cash_source": source if cash is not None else None,
        "positions_value": _money(holdings) if priced else None,
        "equity": _money(equity),
        "equity_source": equity_source if equity is not None else None,
        "recorded_equity": None if point is None else _money(point.equity),
        "recorded_at": None if point is None else point.at.isoformat(),
        "as_of": now.isoformat(),
    }


def profit_view(
    settings: Settings,
    store: Store,
    now: datetime,
    *,
    trades: list[ClosedTrade] | None = None,
    prices: dict[str, KnownPrice] | None = None,
) -> dict[str, Any]:
    """Everything `qtbot profit` prints, JSON-ready (Decimals as text, quote currency).
    `trades` (every closed trade) and `prices` spare a caller that has them a second read."""
    trades = closed_trades(store) if trades is None else trades
    prices = known_prices(store) if prices is None else prices
    dust_by_symbol = RuntimeState(store).dust()
    rows = []
    for symbol in fill_symbols(store):
        dust = dust_by_symbol.get(symbol, _ZERO)
        fig = _figures(
            store, symbol, [t for t in trades if t.symbol == symbol], dust, prices.get(symbol)
        )
        rows.append(_symbol_view(fig, dust, now))
    wins = sum(row["wins"] for row in rows)
    losses = sum(row["losses"] for row in rows)
    realised, unrealised, total = (
        _sum(rows, k) for k in ("realised_pnl", "unrealised_pnl", "total_pnl")
    )
    invested = _sum(rows, "buy_hold_invested") or _ZERO
    hold = _sum(rows, "buy_hold_pnl")
    firsts = [row["first_entry_at"] for row in rows if row["first_entry_at"]]
    notes = [
        f"{row['symbol']}: no price known (no fill, no valuation)"
        for row in rows
        if row["last_price"] is None
    ]
    return {
        "as_of": now.isoformat(),
        "quote": settings.strategy.quote_currency,
        "trades": len(trades),
        "wins": wins,
        "losses": losses,
        "win_rate_pct": _pct(Decimal(wins), Decimal(len(trades))),
        "realised_pnl": _money(realised),
        "unrealised_pnl": _money(unrealised),
        "total_pnl": _money(total),
        "fees": _money(_sum(rows, "fees")),
        "buy_and_hold": {
            "since": min(firsts) if firsts else None,
            "invested": _money(invested),
            "pnl": _money(hold),
            "pct": None if hold is None else _pct(hold, invested),
            "strategy_pnl": _money(total),
            "strategy_pct": None if total is None else _pct(total, invested),
        },
        "symbols": rows,
        "account": account_view(settings, store, now, prices),
        "notes": notes,
    }
