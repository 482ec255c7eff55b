"""The status page's tables: which columns, formatted for people, which to drop on a phone.

A column is (key, heading, format, style): `format` turns the row's value into text, `style`
is "num" (right-aligned figures), "pnl" (figures coloured by sign), "opt" (hidden below 600 px
wide) or "" (text). Pure: rows in, HTML out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from bot.ops import human


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    format: Callable[[Any], str] = str
    style: str = ""


def _text(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _sign(value: Any) -> int:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return 0
    return (number > 0) - (number < 0)


def short_year(text: str) -> str:
    """`2026-03-18 14:00` with the year in a span phones hide (`03-18 14:00`): escaped HTML."""
    if len(text) > 5 and text[:4].isdigit() and text[4] == "-":
        return f'<span class="opt">{escape(text[:5])}</span>{escape(text[5:])}'
    return escape(text)


def _cell(column: Column, row: dict[str, Any]) -> str:
    value = row.get(column.key)
    text = column.format(value) if value is not None else "-"
    classes = [c for c in column.style.split() if c in ("num", "pnl", "opt")]
    if "pnl" in classes:
        classes.append({1: "gain", -1: "loss", 0: ""}[_sign(value)])
        classes.append("num")
    if text == "-":
        classes.append("muted")
    attr = f' class="{" ".join(c for c in classes if c)}"' if classes else ""
    if "when" in column.style.split():
        return f"<td{attr}>{short_year(text)}</td>"
    return f"<td{attr}>{escape(text)}</td>"


def table(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], empty: str, caption: str = ""
) -> str:
    """An HTML table inside a horizontally scrolling box (wide tables on a phone), or the
    `empty` sentence when there are no rows."""
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(
        f'<th class="{escape(c.style)}">{escape(c.heading)}</th>'
        if c.style
        else f"<th>{escape(c.heading)}</th>"
        for c in columns
    )
    body = "".join("<tr>" + "".join(_cell(c, row) for c in columns) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _signed_money(value: Any) -> str:
    return human.money(value, signed=True)


def _next_tier(value: Any) -> str:
    if not isinstance(value, dict):
        return _text(value)
    return (
        f"#{value.get('tier')} at {human.price(value.get('price'))} "
        f"({human.pct(value.get('gain_pct'))})"
    )


def _reason(value: Any) -> str:
    return str(value)


def _since(value: Any) -> str:
    return human.when(value) if isinstance(value, (str, datetime)) else _text(value)


POSITION_COLUMNS = (
    Column("symbol", "symbol"),
    Column("size", "size", human.amount, "num opt"),
    Column("avg_entry", "avg entry", human.price, "num opt"),
    Column("last_price", "last", human.price, "num"),
    Column("unrealized_pnl", "unrealised", _signed_money, "pnl"),
    Column("gain_pct", "gain", human.pct, "pnl"),
    Column("tiers_taken", "tiers taken", _text, "opt"),
    Column("next_tier", "next tier", _next_tier, "opt"),
    Column("trailing_stop", "trailing stop", human.price, "num opt"),
    Column("hard_stop", "hard stop", human.price, "num"),
)

TRADE_COLUMNS = (
    Column("symbol", "symbol"),
    Column("entry_at", "entry (UTC)", human.when, "opt when"),
    Column("entry_avg", "entry", human.price, "num opt"),
    Column("exit_at", "exit (UTC)", human.when, "when"),
    Column("exit_avg", "exit", human.price, "num opt"),
    Column("amount", "amount", human.amount, "num opt"),
    Column("held_seconds", "held", human.held, "opt"),
    Column("pnl", "P&L", _signed_money, "pnl"),
    Column("pnl_pct", "%", human.pct, "pnl opt"),
    Column("reason", "why", _reason),
)

SYMBOL_PNL_COLUMNS = (
    Column("symbol", "symbol"),
    Column("trades", "trades", str, "num opt"),
    Column("wins", "won", str, "num opt"),
    Column("realised_pnl", "realised", _signed_money, "pnl opt"),
    Column("unrealised_pnl", "unrealised", _signed_money, "pnl opt"),
    Column("total_pnl", "total", _signed_money, "pnl"),
    Column("strategy_pct", "the bot", human.pct, "pnl"),
    Column("buy_hold_pct", "buy & hold", human.pct, "pnl"),
    Column("last_price", "last price", human.price, "num opt"),
    Column("price_note", "price from", _text, "opt"),
)

ORDER_COLUMNS = (
    Column("symbol", "symbol"),
    Column("side", "side"),
    Column("type", "type", _text, "opt"),
    Column("amount", "amount", human.amount, "num"),
    Column("price", "price", human.price, "num"),
    Column("filled", "filled", human.amount, "num opt"),
    Column("status", "status"),
    Column("kind", "kind", _text, "opt"),
    Column("since", "since (UTC)", _since, "opt when"),
)

PLAN_COLUMNS = (
    Column("symbol", "symbol"),
    Column("cycle", "cycle", str, "num opt"),
    Column("status", "status"),
    Column("tranches", "tranches", _text, "num"),
    Column("spent_of_budget", "spent / budget", _text, "num"),
    Column("average_entry", "avg entry", human.price, "num opt"),
    Column("next_at", "next (UTC)", _since, "opt when"),
    Column("held_reason", "held", _text, "opt"),
)


def plan_rows(plans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`qtbot status`'s plan progress rows with the two composite cells the page shows."""
    return [
        {
            **plan,
            "tranches": f"{plan.get('tranches_done', '?')} / {plan.get('tranches_total', '?')}",
            "spent_of_budget": (
                f"{human.money(plan.get('spent'))} / {human.money(plan.get('budget'))}"
            ),
        }
        for plan in plans
    ]


def symbol_rows(symbols: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`profit_view`'s per-symbol rows with where the last price came from and its age."""
    return [
        {
            **row,
            "price_note": None
            if row.get("last_price") is None
            else f"{row.get('price_source')}, {human.age(row.get('price_age_seconds'))} ago",
        }
        for row in symbols
    ]
