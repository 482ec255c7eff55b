"""The read-only status page: one HTML document, no script, an inline SVG equity chart. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from bot.ops.web.health import HealthReport
from bot.ops.web.snapshot import Snapshot
from bot.state.equity_series import EquityPoint

REFRESH_SECONDS = 30

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430;background:#f6f7f9}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff;min-width:40%}
th,td{padding:.3em .7em;border-bottom:1px solid #e3e6ea;text-align:left;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#13795b}.bad{color:#b42318}.unknown{color:#8a6d00}.muted{color:#667085}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600}
.badge.ok{background:#13795b}.badge.bad{background:#b42318}
.lvl-warning{background:#fff8e6}.lvl-error{background:#fdecec}
svg{background:#fff;border:1px solid #e3e6ea}
"""

POSITION_COLUMNS = (
    ("symbol", "symbol"),
    ("size", "size"),
    ("avg_entry", "avg entry"),
    ("last_price", "last"),
    ("unrealized_pnl", "unrealized"),
    ("gain_pct", "gain %"),
    ("tiers_taken", "tiers taken"),
    ("next_tier", "next tier"),
    ("trailing_stop", "trailing stop"),
    ("hard_stop", "hard stop"),
)
ORDER_COLUMNS = (
    ("symbol", "symbol"),
    ("side", "side"),
    ("type", "type"),
    ("amount", "amount"),
    ("price", "price"),
    ("filled", "filled"),
    ("status", "status"),
    ("kind", "kind"),
    ("since", "since"),
)


def _cell(value: Any) -> str:
    if value is None or value == []:
        return '<td class="muted">-</td>'
    if isinstance(value, dict) and "tier" in value:
        text = f"#{value['tier']} at {value.get('price')} (+{value.get('gain_pct')} %)"
        return f"<td>{escape(text)}</td>"
    if isinstance(value, (list, tuple)):
        return f"<td>{escape(', '.join(str(v) for v in value))}</td>"
    text = str(value)
    numeric = text.replace(".", "", 1).lstrip("-").isdigit()
    return f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>" + "".join(_cell(row.get(key)) for key, _ in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _generic_columns(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    return [(k, k.replace("_", " ")) for k in keys]


def equity_svg(points: Sequence[EquityPoint], width: int = 720, height: int = 220) -> str:
    """A line chart of the equity series as inline SVG (floats are fine for drawing)."""
    if len(points) < 2:
        return '<p class="muted">not enough equity history yet (one point per 10 minutes)</p>'
    pad_left, pad_right, pad_y = 70, 10, 20
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
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="equity chart">'
        f'<line x1="{pad_left}" y1="{pad_y}" x2="{pad_left}" y2="{height - pad_y}" '
        'stroke="#c5cad3"/>'
        f'<line x1="{pad_left}" y1="{height - pad_y}" x2="{width - pad_right}" '
        f'y2="{height - pad_y}" stroke="#c5cad3"/>'
        f'<text x="{pad_left - 6}" y="{pad_y + 4}" text-anchor="end" font-size="11">'
        f"{high:,.2f}</text>"
        f'<text x="{pad_left - 6}" y="{height - pad_y}" text-anchor="end" font-size="11">'
        f"{low:,.2f}</text>"
        f'<text x="{pad_left}" y="{height - 4}" font-size="11">'
        f"{escape(first.strftime('%Y-%m-%d %H:%M'))}</text>"
        f'<text x="{width - pad_right}" y="{height - 4}" text-anchor="end" font-size="11">'
        f"{escape(last.strftime('%Y-%m-%d %H:%M'))} UTC</text>"
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{line}"/>'
        "</svg>"
    )


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _health_list(health: HealthReport) -> str:
    items = []
    for check in health.checks:
        css = {True: "ok", False: "bad", None: "unknown"}[check.ok]
        word = {True: "ok", False: "failing", None: "unknown"}[check.ok]
        items.append(
            f'<li><b>{escape(check.name)}</b>: <span class="{css}">{word}</span> '
            f'<span class="muted">{escape(check.detail)}</span></li>'
        )
    return "<ul>" + "".join(items) + "</ul>"


def _decisions(snap: Snapshot) -> str:
    if not snap.recent:
        return '<p class="muted">no journal entries yet</p>'
    rows = "".join(
        f'<tr class="lvl-{escape(e.level)}"><td>{escape(e.at.strftime("%Y-%m-%d %H:%M:%S"))}'
        f"</td><td>{escape(e.kind)}</td><td>{escape(e.symbol or '')}</td>"
        f'<td style="white-space:normal">{escape(e.message)}</td></tr>'
        for e in snap.recent
    )
    return (
        "<table><thead><tr><th>at (UTC)</th><th>kind</th><th>symbol</th><th>what and why</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def render_page(snap: Snapshot, health: HealthReport, now: datetime) -> str:
    view = snap.view
    badge = (
        '<span class="badge ok">healthy</span>'
        if health.ok
        else ('<span class="badge bad">failing</span>')
    )
    blocked = view.get("entries_blocked_by") or []
    drawdown = "-"
    if snap.equity is not None and snap.equity_peak:
        drawdown = f"{max(Decimal(0), 1 - snap.equity / snap.equity_peak) * 100:.2f} %"
    plans = view.get("plans") or []
    account = (
        "<table><tbody>"
        f'<tr><th>equity</th><td class="num">{_money(snap.equity)}</td></tr>'
        f'<tr><th>free cash</th><td class="num">{_money(snap.cash)}</td></tr>'
        f'<tr><th>equity peak</th><td class="num">{_money(snap.equity_peak)}</td></tr>'
        f'<tr><th>drawdown</th><td class="num">{drawdown}</td></tr>'
        f"<tr><th>regime</th><td>{escape(str(snap.regime or 'unknown'))}</td></tr>"
        f"<tr><th>new entries</th><td>{'paused' if view.get('risk_off') else 'allowed'}"
        f"{'; blocked: ' + escape('; '.join(blocked)) if blocked else ''}</td></tr>"
        "</tbody></table>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>qtbot status</title><style>{_STYLE}</style></head><body>"
        f"<h1>qtbot {badge}</h1>"
        f'<p class="muted">{escape(str(view.get("mode")))} on {escape(str(view.get("exchange")))}'
        f" &middot; {escape(now.strftime('%Y-%m-%d %H:%M:%S'))} UTC &middot; read-only, "
        f"refreshes every {REFRESH_SECONDS} s</p>"
        f"<h2>Health</h2>{_health_list(health)}"
        f"<h2>Account</h2>{account}"
        f"<h2>Equity</h2>{equity_svg(snap.series)}"
        "<h2>Positions</h2>"
        + table(view.get("positions", []), POSITION_COLUMNS, "no open positions")
        + "<h2>Entry plans</h2>"
        + table(plans, _generic_columns(plans), "no entry plans recorded")
        + "<h2>Open orders</h2>"
        + table(view.get("open_orders", []), ORDER_COLUMNS, "no open orders")
        + f"<h2>Recent decisions</h2>{_decisions(snap)}"
        + "</body></html>"
    )
