"""The read-only status page: one HTML document, no script, inline SVG charts. Pure.

Everything it needs comes in the document (styles inline, charts drawn on the server), so it
loads from qtbot alone, behind the page's `default-src 'none'` policy, offline included. The
layout is one column of cards and tables that narrows to a phone (390 px): wide tables scroll
sideways and drop their least useful columns below 600 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from bot.ops import human
from bot.ops.web.chart_svg import price_chart_svg
from bot.ops.web.health import HealthReport
from bot.ops.web.page_tables import (
    ORDER_COLUMNS,
    PLAN_COLUMNS,
    POSITION_COLUMNS,
    SYMBOL_PNL_COLUMNS,
    TRADE_COLUMNS,
    plan_rows,
    short_year,
    symbol_rows,
    table,
)
from bot.ops.web.snapshot import Snapshot
from bot.state.equity_series import EquityPoint

REFRESH_SECONDS = 30

_STYLE = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1180px;padding:1rem 1.25rem 2rem;color:#1d2430;background:#f6f7f9}
h1{font-size:1.45em;margin:.2em 0}h2{font-size:1.12em;margin:1.6em 0 .5em}
.sub{margin:0 0 .4em}
.muted{color:#667085}.ok,.gain{color:#13795b}.bad,.loss{color:#b42318}.unknown{color:#8a6d00}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600;
font-size:.7em;vertical-align:middle}
.badge.ok{background:#13795b;color:#fff}.badge.bad{background:#b42318;color:#fff}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:.6rem}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:.55rem .75rem}
.card .k{font-size:.8em;color:#667085}.card .v{font-size:1.3em;font-weight:600;
font-variant-numeric:tabular-nums;white-space:nowrap}.card .n{font-size:.78em;color:#667085}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;background:#fff;border:1px solid #e3e6ea;min-width:50%}
caption{text-align:left;color:#667085;padding:.2em 0}
th,td{padding:.32em .65em;border-bottom:1px solid #eef0f3;text-align:left;white-space:nowrap}
th{font-size:.85em;color:#475467;background:#fafbfc}
td.num,th.num,td.pnl,th.pnl{text-align:right;font-variant-numeric:tabular-nums}
td.wrap{white-space:normal;min-width:16em}
.lvl-warning{background:#fff8e6}.lvl-error{background:#fdecec}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:.8rem}
figure{margin:0;background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:.4rem .5rem}
figcaption{font-weight:600;margin:0 0 .2em .2em}figcaption span{font-weight:400}
svg.chart{display:block;width:100%;height:auto}figure.equity{max-width:640px}
ul.health{margin:.2em 0;padding-left:1.2em}
@media (max-width:600px){
body{font-size:14px;padding:.6rem .6rem 1.5rem}
.cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:.45rem}
.card .v{font-size:1.1em}
.charts{grid-template-columns:minmax(0,1fr)}
table{font-size:13px}
th,td{padding:.3em .35em}
.opt{display:none}
table{min-width:100%}
td.wrap{min-width:0;white-space:normal}
}
"""


def equity_svg(points: Sequence[EquityPoint], width: int = 520, height: int = 220) -> str:
    """A line chart of the equity series as inline SVG (floats are fine for drawing)."""
    if len(points) < 2:
        return '<p class="muted">not enough equity history yet (one point per 10 minutes)</p>'
    pad_left, pad_right, pad_y = 74, 10, 20
    values = [float(p.equity) for p in points]
    times = [p.at.timestamp() for p in points]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    span_t = (times[-1] - times[0]) or 1.0
    plot_w, plot_h = width - pad_left - pad_right, height - 2 * pad_y

    def xy(t: float, v: float) -> str:
        x = pad_left + (t - times[0]) / span_t * plot_w
        y = pad_y + (high - v) / (high - low) * plot_h
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in zip(times, values, strict=True))
    first, last = points[0].at, points[-1].at
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="equity chart" font-family="system-ui,sans-serif">'
        f'<line x1="{pad_left}" y1="{pad_y}" x2="{pad_left}" y2="{height - pad_y}" '
        'stroke="#c5cad3"/>'
        f'<line x1="{pad_left}" y1="{height - pad_y}" x2="{width - pad_right}" '
        f'y2="{height - pad_y}" stroke="#c5cad3"/>'
        f'<text x="{pad_left - 6}" y="{pad_y + 4}" text-anchor="end" font-size="12">'
        f"{escape(human.money(high))}</text>"
        f'<text x="{pad_left - 6}" y="{height - pad_y}" text-anchor="end" font-size="12">'
        f"{escape(human.money(low))}</text>"
        f'<text x="{pad_left}" y="{height - 4}" font-size="12">{escape(human.when(first))}</text>'
        f'<text x="{width - pad_right}" y="{height - 4}" text-anchor="end" font-size="12">'
        f"{escape(human.when(last))} UTC</text>"
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{line}"/>'
        "</svg>"
    )


def _health_list(health: HealthReport) -> str:
    items = []
    for check in health.checks:
        css = {True: "ok", False: "bad", None: "unknown"}[check.ok]
        word = {True: "ok", False: "failing", None: "unknown"}[check.ok]
        items.append(
            f'<li><b>{escape(check.name)}</b>: <span class="{css}">{word}</span> '
            f'<span class="muted">{escape(check.detail)}</span></li>'
        )
    return '<ul class="health">' + "".join(items) + "</ul>"


def _decisions(snap: Snapshot) -> str:
    if not snap.recent:
        return '<p class="muted">no journal entries yet</p>'
    rows = "".join(
        f'<tr class="lvl-{escape(e.level)}"><td>{short_year(e.at.strftime("%Y-%m-%d %H:%M"))}'
        f'</td><td class="opt">{escape(e.kind)}</td><td class="opt">{escape(e.symbol or "")}'
        f'</td><td class="wrap">{escape(e.message)}</td></tr>'
        for e in snap.recent
    )
    return (
        '<div class="scroll"><table><thead><tr><th>at (UTC)</th><th class="opt">kind</th>'
        '<th class="opt">symbol</th><th>what and why</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _card(key: str, value: str, note: str = "", css: str = "") -> str:
    cls = f' class="v {css}"' if css else ' class="v"'
    extra = f'<div class="n">{escape(note)}</div>' if note else ""
    return (
        f'<div class="card"><div class="k">{escape(key)}</div>'
        f"<div{cls}>{escape(value)}</div>{extra}</div>"
    )


def _pnl_css(value: Any) -> str:
    if value is None:
        return ""
    number = Decimal(str(value))
    return "gain" if number > 0 else "loss" if number < 0 else ""


def _cards(snap: Snapshot) -> str:
    profit, view = snap.profit, snap.view
    account = profit.get("account") or {}
    hold = profit.get("buy_and_hold") or {}
    quote = profit.get("quote", "")
    drawdown = "-"
    if snap.equity is not None and snap.equity_peak:
        drawdown = human.pct(max(Decimal(0), 1 - snap.equity / snap.equity_peak) * 100, False)
    recorded = account.get("recorded_equity")
    equity_note = account.get("equity_source") or "unknown: no valuation, no paper ledger"
    if recorded is not None and account.get("recorded_at"):
        equity_note = (
            f"{equity_note} (risk job: {human.money(recorded)}, "
            f"{human.when(account['recorded_at'])})"
        )
    trades = profit.get("trades", 0)
    rate = profit.get("win_rate_pct")
    blocked = view.get("entries_blocked_by") or []
    entries = "paused" if view.get("risk_off") else ("blocked" if blocked else "allowed")
    cards = [
        _card(f"equity ({quote})", human.money(account.get("equity")), equity_note),
        _card(
            f"cash ({quote})", human.money(account.get("cash")), account.get("cash_source") or ""
        ),
        _card(
            "realised P&L",
            human.money(profit.get("realised_pnl"), signed=True),
            f"{trades} closed trade{'s' if trades != 1 else ''}",
            _pnl_css(profit.get("realised_pnl")),
        ),
        _card(
            "unrealised P&L",
            human.money(profit.get("unrealised_pnl"), signed=True),
            "open positions, after their fees",
            _pnl_css(profit.get("unrealised_pnl")),
        ),
        _card(
            "win rate",
            "-" if rate is None else human.pct(rate, signed=False),
            f"{profit.get('wins', 0)} won, {profit.get('losses', 0)} lost",
        ),
        _card(
            "the bot",
            human.pct(hold.get("strategy_pct")),
            f"buy & hold {human.pct(hold.get('pct'))} on {human.money(hold.get('invested'))} "
            f"since {human.when(hold.get('since'))}"
            if hold.get("since")
            else "nothing bought yet",
            _pnl_css(hold.get("strategy_pct")),
        ),
        _card("drawdown", drawdown, f"peak {human.money(snap.equity_peak)}"),
        _card("regime", str(snap.regime or "unknown")),
        _card("new entries", entries, "; ".join(blocked)),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _charts(snap: Snapshot) -> str:
    if not snap.charts:
        return '<p class="muted">nothing traded yet: no prices to chart</p>'
    figures = []
    for chart in snap.charts:
        last = chart.points[-1] if chart.points else None
        now_text = f" last {human.price(last[1])} at {human.when(last[0])}" if last else ""
        figures.append(
            f"<figure><figcaption>{escape(chart.symbol)}"
            f'<span class="muted">{escape(now_text)}</span></figcaption>'
            f"{price_chart_svg(chart)}</figure>"
        )
    return (
        '<p class="muted sub">The line joins the prices qtbot has stored (fills, valuations, '
        "decisions); it is not a full market history.</p>"
        f'<div class="charts">{"".join(figures)}</div>'
    )


def render_page(snap: Snapshot, health: HealthReport, now: datetime) -> str:
    view = snap.view
    badge = (
        '<span class="badge ok">healthy</span>'
        if health.ok
        else '<span class="badge bad">failing</span>'
    )
    profit = snap.profit
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>qtbot status</title><style>{_STYLE}</style></head><body>"
        f"<h1>qtbot {badge}</h1>"
        f'<p class="muted sub">{escape(str(view.get("mode")))} on '
        f"{escape(str(view.get('exchange')))} &middot; {escape(human.when(now))} UTC &middot; "
        f"read-only, refreshes every {REFRESH_SECONDS} s</p>"
        f"{_health_list(health)}"
        f"<h2>Account</h2>{_cards(snap)}"
        "<h2>Positions</h2>"
        + table(
            view.get("positions", []),
            POSITION_COLUMNS,
            "no open positions",
            caption="unrealised before fees (the card above counts the cycle's fees)",
        )
        + "<h2>Prices, entries, tier sales and stops</h2>"
        + _charts(snap)
        + "<h2>Closed trades</h2>"
        + table(
            snap.trades,
            TRADE_COLUMNS,
            "no closed trades yet",
            caption="newest first; P&L after every fee of the trade",
        )
        + "<h2>Profit by symbol</h2>"
        + table(symbol_rows(profit.get("symbols", [])), SYMBOL_PNL_COLUMNS, "nothing traded yet")
        + f'<h2>Equity</h2><figure class="equity">{equity_svg(snap.series)}</figure>'
        + "<h2>Entry plans</h2>"
        + table(plan_rows(view.get("plans") or []), PLAN_COLUMNS, "no entry plans recorded")
        + "<h2>Open orders</h2>"
        + table(view.get("open_orders", []), ORDER_COLUMNS, "no open orders")
        + f"<h2>Recent decisions</h2>{_decisions(snap)}"
        + "</body></html>"
    )
