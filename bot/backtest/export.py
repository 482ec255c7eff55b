"""`--out DIR`: the run as CSV files (and the JSON summary) a spreadsheet can open; the trader's
tables (returns by month, per pair) as well."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.backtest.candles import EPOCH_ORDINAL
from bot.backtest.metrics import daily_points, drawdown
from bot.backtest.report import fill_dict, order_dict, summary_json, trip_dict
from bot.backtest.runner import BacktestResult
from bot.backtest.trader_report import TraderReport, report_dict, trader_report

FILES = (
    "trades.csv",
    "orders.csv",
    "round_trips.csv",
    "equity_daily.csv",
    "journal.csv",
    "summary.json",
    "monthly_returns.csv",
    "pairs.csv",
)
JOURNAL_COLUMNS = ("at", "kind", "level", "symbol", "message", "data")


def _write(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()}
            )


def daily_equity_rows(result: BacktestResult) -> list[dict[str, Any]]:
    curve = result.curve
    days, strategy = daily_points(curve.times, curve.strategy)
    _, hold = daily_points(curve.times, curve.buy_hold)
    dd_strategy = drawdown(np.concatenate(([float(result.cash)], strategy)))[1:]
    dd_hold = drawdown(np.concatenate(([float(result.cash)], hold)))[1:]
    rows = []
    for i, day_ms in enumerate(days):
        day = date.fromordinal(EPOCH_ORDINAL) + timedelta(days=int(day_ms) // 86_400_000)
        rows.append(
            {
                "date": day.isoformat(),
                "strategy": round(float(strategy[i]), 8),
                "buy_and_hold": round(float(hold[i]), 8),
                "strategy_drawdown": round(float(dd_strategy[i]), 8),
                "buy_and_hold_drawdown": round(float(dd_hold[i]), 8),
            }
        )
    return rows


def journal_rows(result: BacktestResult) -> list[dict[str, Any]]:
    """Every decision the jobs journaled (plans, gates, tranches, exits), as the daemon's
    journal has them: why the run did what it did."""
    return [
        {
            "at": entry.at.isoformat(),
            "kind": entry.kind,
            "level": entry.level,
            "symbol": entry.symbol or "",
            "message": entry.message,
            "data": json.dumps(entry.data, sort_keys=True),
        }
        for entry in result.journal
    ]


def write_outputs(result: BacktestResult, directory: Path) -> list[Path]:
    """Write the files named in `FILES` into `directory` (created); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    fills = [fill_dict(f) for f in result.fills]
    orders = [order_dict(o) for o in result.orders]
    trips = [trip_dict(t) for t in result.trips]
    equity = daily_equity_rows(result)
    paths = [directory / name for name in FILES]
    _write(paths[0], fills, list(fills[0]) if fills else ["time", "symbol", "side"])
    _write(paths[1], orders, list(orders[0]) if orders else ["created", "symbol", "side"])
    _write(paths[2], trips, list(trips[0]) if trips else ["symbol", "opened", "closed"])
    _write(paths[3], equity, list(equity[0]) if equity else ["date", "strategy"])
    _write(paths[4], journal_rows(result), JOURNAL_COLUMNS)
    paths[5].write_text(summary_json(result, details=False) + "\n", encoding="utf-8")
    report = trader_report(result)
    _write(paths[6], monthly_rows(report), ("month", "strategy", "buy_and_hold"))
    pairs = report_dict(report)["pairs"]
    trades = ("best_trade", "worst_trade")  # nested: in summary.json, not in a flat table
    rows = [
        {"pair": k, **{c: v for c, v in p.items() if c not in trades}} for k, p in pairs.items()
    ]
    _write(paths[7], rows, list(rows[0]) if rows else ["pair"])
    return paths


def monthly_rows(report: TraderReport) -> list[dict[str, Any]]:
    """Strategy and buy-and-hold return of each UTC calendar month (fractions)."""
    mine, hold = report.monthly["strategy"], report.monthly["buy_and_hold"]
    return [
        {"month": m, "strategy": round(mine[m], 8), "buy_and_hold": round(hold.get(m, 0.0), 8)}
        for m in mine
    ]
