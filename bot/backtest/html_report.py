"""`--html PATH`: the backtest as one self-contained page a trader reads, on a desk or a phone.

No script, no CDN, no external file: inline CSS and inline SVG charts (`svg_chart`). The same
figures as the terminal summary and `--json` (`trader_report`, `metrics`). No wall-clock value
on the page, so equal inputs give equal bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape
from pathlib import Path

import numpy as np

from bot.backtest.candles import to_ms
from bot.backtest.metrics import daily_points, drawdown
from bot.backtest.plot import REGIME_COLORS, RegimeSpan, regime_spans
from bot.backtest.report import METRICS, cell
from bot.backtest.report_tables import (
    MONTHS,
    PAIR_COLUMNS,
    drawdown_line,
    factor,
    monthly_grid,
    pair_cells,
    pct,
    trade_rows,
)
from bot.backtest.results import RoundTrip
from bot.backtest.runner import BacktestResult
from bot.backtest.svg_chart import Band, Line, line_chart
from bot.backtest.trader_report import TraderReport, trader_report
from bot.strategy.inputs import RegimeView

STRATEGY_COLOR, HOLD_COLOR = "#1f77b4", "#7f7f7f"

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1000px;margin:0 auto;padding:12px}
h1{font-size:1.3em;margin:.4em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}
.sub{color:#666;margin:0 0 .8em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.card b{display:block;font-size:1.25em}.card span{color:#666;font-size:.85em}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
td,th{padding:4px 8px;border:1px solid #e3e3e3;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}
.kv td{white-space:normal}.kv td:last-child{text-align:left}
.pos{color:#1a7f37}.neg{color:#c62828}
.month td{min-width:2.6em}
svg{width:100%;height:auto;background:#fff;border:1px solid #ddd;border-radius:6px}
.legend{font-size:.85em;color:#444;margin:.2em 0 .6em}
.legend i{display:inline-block;width:1.2em;height:.3em;vertical-align:middle;margin:0 .3em 0 .8em}
details{margin:.6em 0}footer{color:#777;font-size:.8em;margin:2em 0}
@media (max-width:600px){body{font-size:14px}main{padding:8px}.chart svg{min-width:500px}}
"""


def _signed(value: float | None, text: str) -> str:
    kind = "" if value is None or abs(value) < 0.0005 else "pos" if value > 0 else "neg"
    return f'<td class="{kind}">{escape(text)}</td>' if kind else f"<td>{escape(text)}</td>"


def _table(head: Sequence[str], rows: Sequence[str], css: str = "") -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    klass = f' class="{css}"' if css else ""
    top = f"<tr>{header}</tr>" if head else ""
    return f'<div class="wrap"><table{klass}>{top}{body}</table></div>'


def _cards(result: BacktestResult, report: TraderReport) -> str:
    mine, hold, trades = result.strategy, result.buy_hold, report.trades
    cards = (
        ("total return", pct(mine.total_return), f"buy & hold {pct(hold.total_return)}"),
        ("CAGR", pct(mine.cagr), f"buy & hold {pct(hold.cagr)}"),
        ("max drawdown", pct(mine.max_drawdown), f"buy & hold {pct(hold.max_drawdown)}"),
        ("Sharpe", cell(mine.sharpe, "num"), f"buy & hold {cell(hold.sharpe, 'num')}"),
        ("win rate", pct(trades.win_rate, sign=False), f"{trades.closed_trips} closed trips"),
        ("profit factor", factor(trades.profit_factor), f"payoff {factor(trades.payoff_ratio)}"),
        ("exposure", pct(mine.exposure, sign=False), "share of time holding"),
        ("final equity", cell(mine.final, "money"), f"from {cell(mine.initial, 'money')}"),
    )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><span>{escape(name)}</span><b>{escape(value)}</b>'
            f"<span>{escape(note)}</span></div>"
            for name, value, note in cards
        )
        + "</div>"
    )


def _performance(result: BacktestResult) -> str:
    mine, hold = result.strategy.as_dict(), result.buy_hold.as_dict()
    rows = [
        f"<td>{escape(label)}</td><td>{escape(cell(mine[key], kind))}</td>"
        f"<td>{escape(cell(hold[key], kind))}</td>"
        for key, label, kind in METRICS
    ]
    return _table(("", "strategy", "buy & hold"), rows)


def _daily(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One point a day (the day's last close) keeps the page small for intraday runs."""
    days, daily = daily_points(times, values)
    return days + 86_400_000, daily


def _charts(result: BacktestResult, spans: Sequence[RegimeSpan]) -> str:
    curve, cash = result.curve, float(result.cash)
    t_mine, v_mine = _daily(curve.times, curve.strategy)
    t_hold, v_hold = _daily(curve.times, curve.buy_hold)
    start = np.array([to_ms(result.start)], dtype=np.int64)
    t_mine, t_hold = np.concatenate((start, t_mine)), np.concatenate((start, t_hold))
    v_mine, v_hold = np.concatenate(([cash], v_mine)), np.concatenate(([cash], v_hold))
    bands = [
        Band(to_ms_day(s.start), to_ms_day(s.end), REGIME_COLORS[s.regime])
        for s in spans
        if s.regime in REGIME_COLORS
    ]
    equity = line_chart(
        [
            Line("buy & hold", HOLD_COLOR, t_hold, v_hold),
            Line("strategy", STRATEGY_COLOR, t_mine, v_mine),
        ],
        "Equity, log scale",
        log=True,
        bands=bands,
    )
    falls = line_chart(
        [
            Line("buy & hold", HOLD_COLOR, t_hold, drawdown(v_hold) * 100),
            Line("strategy", STRATEGY_COLOR, t_mine, drawdown(v_mine) * 100, fill=True),
        ],
        "Drawdown, %",
        unit="%",
        bands=bands,
        height=170,
    )
    legend = (
        f'<div class="legend"><i style="background:{STRATEGY_COLOR}"></i>strategy'
        f'<i style="background:{HOLD_COLOR}"></i>buy &amp; hold'
        + (
            "".join(
                f'<i style="background:{c};opacity:.35;height:.8em"></i>{escape(name)}'
                for name, c in REGIME_COLORS.items()
            )
            + " (Fed regime as known then)"
            if bands
            else ""
        )
        + "</div>"
    )
    return (
        f'<h2>Equity (log scale) vs buy &amp; hold</h2><div class="wrap chart">{equity}</div>'
        f'{legend}<h2>Drawdown</h2><div class="wrap chart">{falls}</div>'
    )


def to_ms_day(day: date) -> int:
    return (day.toordinal() - date(1970, 1, 1).toordinal()) * 86_400_000


def _trades(report: TraderReport) -> str:
    rows = [f"<td>{escape(k)}</td><td>{escape(v)}</td>" for k, v in trade_rows(report.trades)]
    for key, name in (("strategy", "strategy"), ("buy_and_hold", "buy & hold")):
        episode = report.drawdowns[key]
        rows.append(f"<td>worst drawdown, {name}</td><td>{escape(drawdown_line(episode))}</td>")
        rows.append(f"<td>longest drawdown, {name}</td><td>{episode.longest_days:,.0f} days</td>")
    return _table((), rows, "kv")


def _pairs(report: TraderReport) -> str:
    rows = []
    for pair in report.pairs:
        cells = pair_cells(pair)
        rows.append(
            "".join(f"<td>{escape(c)}</td>" for c in cells[:6])
            + _signed(pair.pnl, cells[6])
            + "".join(f"<td>{escape(c)}</td>" for c in cells[7:9])
            + _signed(pair.price_change, cells[9])
        )
    return _table(PAIR_COLUMNS, rows)


def _month_text(value: float) -> str:
    return f"{value * 100:+.1f}" if abs(value) >= 0.0005 else "0.0"  # not "-0.0"


def _monthly(report: TraderReport) -> str:
    yearly, hold = report.yearly["strategy"], report.yearly["buy_and_hold"]
    rows = []
    for year, months in monthly_grid(report.monthly["strategy"]).items():
        cells = "".join("<td></td>" if m is None else _signed(m, _month_text(m)) for m in months)
        rows.append(
            f"<td>{year}</td>{cells}"
            + _signed(yearly.get(year), pct(yearly.get(year)))
            + _signed(hold.get(year), pct(hold.get(year)))
        )
    return _table(("year", *MONTHS, "year", "B&H"), rows, "month")


def _trip_list(trips: Sequence[RoundTrip]) -> str:
    rows = []
    for t in trips:
        pnl = float(t.net_pnl)
        rows.append(
            f"<td>{escape(t.symbol)}</td><td>{t.opened:%Y-%m-%d}</td>"
            f"<td>{f'{t.closed:%Y-%m-%d}' if t.closed else 'open'}</td>"
            f"<td>{float(t.avg_entry):,.4g}</td>"
            f"<td>{'-' if t.avg_exit is None else f'{float(t.avg_exit):,.4g}'}</td>"
            + _signed(pnl, f"{pnl:,.2f}")
            + f"<td>{escape(' '.join(t.exits) or '-')}</td>"
        )
    table = _table(("symbol", "opened", "closed", "entry", "exit", "net PnL", "exits"), rows)
    return f"<details><summary>All {len(trips)} round trips</summary>{table}</details>"


def render_html(result: BacktestResult, spans: Sequence[RegimeSpan] = ()) -> str:
    report = trader_report(result)
    symbols = ", ".join(s.symbol for s in result.series)
    title = f"qtbot backtest {result.start:%Y-%m-%d} → {result.end:%Y-%m-%d}"
    exits = ", ".join(f"{k} {v}" for k, v in result.tiers.items()) or "none"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">{escape(symbols)}; allocation '
        f"{escape(result.settings.strategy.allocation)}; start {escape(str(result.cash))}; "
        "buy &amp; hold = the same allocation bought at the first open.</p>"
        + _cards(result, report)
        + _charts(result, spans)
        + "<h2>Performance</h2>"
        + _performance(result)
        + "<h2>Trades (closed round trips, net of fees)</h2>"
        + _trades(report)
        + "<h2>Per pair</h2>"
        + _pairs(report)
        + '<p class="sub">net PnL includes what is still held, valued at the last close; '
        "price change = last close / first open.</p>"
        + "<h2>Strategy returns by month, % (UTC)</h2>"
        + _monthly(report)
        + f"<h2>Exits</h2><p>{escape(exits)}. Orders sent: {len(result.orders)}, "
        f"fills: {len(result.fills)}.</p>"
        + _trip_list(result.trips)
        + "<footer>Win rate over closed round trips (net PnL &gt; 0); profit factor = gross "
        "profit / gross loss; exposure = share of time with a position; monthly returns from "
        "the equity curve by UTC calendar month; drawdown from the running peak on every bar. "
        "Definitions: bot/backtest/trade_stats.py, calendar_returns.py, metrics.py.</footer>"
        "</main></body></html>\n"
    )


def write_html(
    result: BacktestResult,
    path: Path,
    regime_of_day: Callable[[date], RegimeView | None] | None = None,
) -> Path:
    """Write the page to `path` (parent created); `regime_of_day` shades the charts."""
    spans = regime_spans(regime_of_day, result.start, result.end) if regime_of_day else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result, spans), encoding="utf-8")
    return path


def check_html_target(path: Path | None) -> None:
    """Refuse, before a long replay, an `--html` path that cannot become a file."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"--html {path} is a directory: give a file name such as report.html")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"--html {path}: {parent} is a file, not a directory")
