"""The trader's tables in the terminal: trades, pairs, returns by month. Same figures as
`--json` and the HTML report (`trader_report`); cells formatted here only."""

from __future__ import annotations

import math
from datetime import datetime

from rich.table import Table
from rich.text import Text

from bot.backtest.calendar_returns import DrawdownEpisode
from bot.backtest.trade_stats import PairStats, TradeStats, TradeView
from bot.backtest.trader_report import TraderReport

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def pct(value: float | None, sign: bool = True) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:+.1f}%" if sign else f"{value * 100:.1f}%"


def money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def factor(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "∞ (no loss)" if math.isinf(value) else f"{value:.2f}"


def day(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d}"


def trade_line(trade: TradeView | None) -> str:
    if trade is None:
        return "-"
    return (
        f"{pct(trade.ret)} ({money(trade.pnl)}) {trade.symbol} "
        f"{day(trade.opened)} → {day(trade.closed)}"
    )


def drawdown_line(episode: DrawdownEpisode) -> str:
    if episode.peak is None:
        return "none"
    back = f"recovered {day(episode.recovered)}" if episode.recovered else "not recovered"
    return f"{pct(episode.depth)} {day(episode.peak)} → {day(episode.trough)}, {back}"


def trade_rows(stats: TradeStats) -> list[tuple[str, str]]:
    """(label, value) pairs for the trade summary; shared with the HTML report."""
    return [
        ("closed round trips", f"{stats.closed_trips} ({stats.open_trips} still open)"),
        ("win rate", f"{pct(stats.win_rate, sign=False)} ({stats.wins} won, {stats.losses} lost)"),
        ("profit factor", factor(stats.profit_factor)),
        ("average win", f"{money(stats.avg_win)} ({pct(stats.avg_win_return)})"),
        ("average loss", f"{money(stats.avg_loss)} ({pct(stats.avg_loss_return)})"),
        ("payoff ratio (avg win / avg loss)", factor(stats.payoff_ratio)),
        ("expectancy (per trip)", money(stats.expectancy)),
        (
            "average holding",
            "n/a" if stats.avg_holding_days is None else f"{stats.avg_holding_days:.1f} days",
        ),
        ("best trade", trade_line(stats.best)),
        ("worst trade", trade_line(stats.worst)),
    ]


def trades_table(report: TraderReport) -> Table:
    table = Table(title="Trades (closed round trips, net of fees)", show_header=False)
    table.add_column("")
    table.add_column("")
    for label, value in trade_rows(report.trades):
        table.add_row(label, value)
    for key, name in (("strategy", "strategy"), ("buy_and_hold", "buy & hold")):
        episode = report.drawdowns[key]
        table.add_row(f"worst drawdown, {name}", drawdown_line(episode))
        table.add_row(f"longest drawdown, {name}", f"{episode.longest_days:,.0f} days")
    return table


PAIR_COLUMNS = (
    "pair",
    "trips",
    "win rate",
    "profit factor",
    "avg win",
    "avg loss",
    "net PnL",
    "fees",
    "exposure",
    "price change",
)


def pair_cells(pair: PairStats) -> tuple[str, ...]:
    t = pair.trades
    return (
        pair.symbol,
        f"{t.closed_trips}" + (f" (+{t.open_trips} open)" if t.open_trips else ""),
        pct(t.win_rate, sign=False),
        factor(t.profit_factor),
        pct(t.avg_win_return),
        pct(t.avg_loss_return),
        money(pair.pnl),
        money(pair.fees),
        pct(pair.exposure, sign=False),
        pct(pair.price_change),
    )


def pairs_table(report: TraderReport) -> Table:
    table = Table(title="Per pair (net PnL includes what is still held, at the last close)")
    for name in PAIR_COLUMNS:
        table.add_column(name, justify="left" if name == "pair" else "right")
    for pair in report.pairs:
        table.add_row(*pair_cells(pair))
    return table


def monthly_grid(monthly: dict[str, float]) -> dict[str, list[float | None]]:
    """{"2024": [Jan return or None, ..., Dec]} from {"2024-01": return}."""
    grid: dict[str, list[float | None]] = {}
    for key, value in monthly.items():
        year, month = key.split("-")
        grid.setdefault(year, [None] * 12)[int(month) - 1] = value
    return grid


def _colored(value: float | None) -> Text:
    if value is None:
        return Text("")
    if abs(value) < 0.0005:  # a flat month reads "0.0", not "-0.0"
        return Text("0.0", style="dim")
    return Text(f"{value * 100:+.1f}", style="green" if value > 0 else "red")


def monthly_table(report: TraderReport) -> Table:
    table = Table(title="Strategy returns by month, % (UTC calendar months; year vs buy & hold)")
    table.add_column("year")
    for name in (*MONTHS, "year", "B&H"):
        table.add_column(name, justify="right")
    yearly, hold = report.yearly["strategy"], report.yearly["buy_and_hold"]
    for year, months in monthly_grid(report.monthly["strategy"]).items():
        years = (_colored(yearly.get(year)), _colored(hold.get(year)))
        table.add_row(year, *(_colored(m) for m in months), *years)
    return table
