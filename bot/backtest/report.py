"""A backtest's results as plain data (`--json`, byte-for-byte reproducible) and as rich tables."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.backtest.metrics import MIN_CAGR_DAYS, Performance
from bot.backtest.report_tables import monthly_table, pairs_table, trades_table
from bot.backtest.results import RoundTrip, TradeFill
from bot.backtest.runner import BacktestResult
from bot.backtest.trader_report import report_dict, trader_report
from bot.orders.intents import OrderRecord
from exchanges.base import format_decimal

METRICS = (
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("max_drawdown", "max drawdown", "pct"),
    ("sharpe", "Sharpe (daily, 365)", "num"),
    ("sortino", "Sortino (daily, 365)", "num"),
    ("exposure", "exposure time", "share"),
    ("fees_paid", "fees paid", "money"),
    ("final_equity", "final equity", "money"),
)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def fill_dict(fill: TradeFill) -> dict[str, Any]:
    return {
        "time": _time(fill.time),
        "symbol": fill.symbol,
        "side": fill.side.value,
        "amount": _dec(fill.amount),
        "price": _dec(fill.price),
        "fee": _dec(fill.fee),
        "kind": fill.kind,
        "tier": fill.tier,
        "client_order_id": fill.client_order_id,
    }


def order_dict(order: OrderRecord) -> dict[str, Any]:
    return {
        "created": _time(order.created_at),
        "updated": _time(order.updated_at),
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "kind": order.kind,
        "tier": order.tier,
        "amount": _dec(order.amount),
        "price": _dec(order.price),
        "status": order.status.value,
        "filled": _dec(order.filled),
        "average": _dec(order.average),
        "fee": _dec(order.fee),
        "client_order_id": order.client_order_id,
        "reason": order.reason,
    }


def trip_dict(trip: RoundTrip) -> dict[str, Any]:
    return {
        "symbol": trip.symbol,
        "opened": _time(trip.opened),
        "closed": _time(trip.closed),
        "bought": _dec(trip.bought),
        "avg_entry": _dec(trip.avg_entry.quantize(Decimal("1E-8"))),
        "sold": _dec(trip.sold),
        "avg_exit": _dec(
            None if trip.avg_exit is None else trip.avg_exit.quantize(Decimal("1E-8"))
        ),
        "fees": _dec(trip.fees.quantize(Decimal("1E-8"))),
        "net_pnl": _dec(trip.net_pnl.quantize(Decimal("1E-8"))),
        "exits": list(trip.exits),
    }


def summary_dict(result: BacktestResult, details: bool = True) -> dict[str, Any]:
    """Everything `--json` prints. No wall-clock values, so equal inputs give equal bytes."""
    data: dict[str, Any] = {
        "start": _time(result.start),
        "end": _time(result.end),
        "symbols": [s.symbol for s in result.series],
        "bars": {s.symbol: len(s) for s in result.series},
        "starting_cash": _dec(result.cash),
        "allocation": result.settings.strategy.allocation,
        "final_balances": {a: _dec(v) for a, v in sorted(result.final_balances.items())},
        "strategy": result.strategy.as_dict(),
        "buy_and_hold": result.buy_hold.as_dict(),
        "exits": result.tiers,
        "round_trips": len(result.trips),
        "orders_sent": len(result.orders),
        "fills": len(result.fills),
        "journal": result.journal_kinds,
        "replay": {
            "bars": result.stats.bars,
            "handed_bars": result.stats.handed_bars,
            "scheduled_runs": result.stats.scheduled_runs,
            "risk_ticks": result.stats.risk_ticks,
            "catch_up_ticks": result.stats.catch_up_ticks,
        },
    }
    data.update(report_dict(trader_report(result)))
    if details:
        data["trades"] = [fill_dict(f) for f in result.fills]
        data["round_trip_list"] = [trip_dict(t) for t in result.trips]
        data["orders"] = [order_dict(o) for o in result.orders]
    return data


def summary_json(result: BacktestResult, details: bool = True) -> str:
    return json.dumps(summary_dict(result, details), indent=2, sort_keys=True)


def cell(value: float | None, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value * 100:+.2f}%"
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.2f}"


def performance_table(result: BacktestResult) -> Table:
    quote = result.settings.strategy.allocation.split(":")[0].split("/")[1]
    table = Table(
        title=f"Backtest {result.start:%Y-%m-%d} → {result.end:%Y-%m-%d}, "
        f"{', '.join(s.symbol for s in result.series)}, start {result.cash} {quote}"
    )
    table.add_column("")
    table.add_column("strategy", justify="right")
    table.add_column("buy & hold", justify="right")
    mine, hold = result.strategy.as_dict(), result.buy_hold.as_dict()
    for key, label, kind in METRICS:
        cells = (cell(mine[key], kind), cell(hold[key], kind))
        if key == "cagr":
            cells = (_cagr_cell(result.strategy, cells[0]), _cagr_cell(result.buy_hold, cells[1]))
        table.add_row(label, *cells)
    return table


def _cagr_cell(perf: Performance, text: str) -> str:
    """Say why a CAGR is missing when the replay was too short to annualise."""
    if perf.cagr is None and perf.days < MIN_CAGR_DAYS:
        return f"n/a (< {MIN_CAGR_DAYS:g} days)"
    return text


_SHORT = {
    "take_profit1": "T1",
    "take_profit2": "T2",
    "take_profit3": "T3",
    "trailing_stop": "trail",
    "stop_loss": "stop",
    "flatten": "flat",
}


def _price(value: Decimal) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.4g}"


def trips_table(trips: tuple[RoundTrip, ...]) -> Table:
    table = Table(title="Round trips (net PnL after fees)")
    for name in ("symbol", "opened", "closed", "entry", "exit", "PnL", "exits"):
        table.add_column(name, justify="right" if name in ("entry", "exit", "PnL") else "left")
    for t in trips:
        table.add_row(
            t.symbol,
            f"{t.opened:%Y-%m-%d}",
            f"{t.closed:%Y-%m-%d}" if t.closed else "open",
            _price(t.avg_entry),
            _price(t.avg_exit) if t.avg_exit is not None else "-",
            f"{t.net_pnl:,.2f}",
            " ".join(_SHORT.get(e, e) for e in t.exits) or "-",
        )
    return table


def print_summary(result: BacktestResult, console: Console) -> None:
    """Round trips first (a long list), then the figures, so they end on screen."""
    if result.trips:
        console.print(trips_table(result.trips))
    report = trader_report(result)
    console.print(performance_table(result))
    console.print(trades_table(report))
    console.print(pairs_table(report))
    console.print(monthly_table(report))
    exits = ", ".join(f"{k} {v}" for k, v in result.tiers.items()) or "none"
    console.print(f"Exits: {exits}. Orders sent: {len(result.orders)}, fills: {len(result.fills)}.")
    stats = result.stats
    console.print(
        f"Replay: {stats.bars} bars, {stats.handed_bars} handed to the jobs, "
        f"{stats.scheduled_runs} scheduled job runs."
    )
