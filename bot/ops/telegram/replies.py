"""What the Telegram bot answers, as short plain text for a phone (no library needed here)."""

from __future__ import annotations

from typing import Any

HELP = (
    "qtbot commands:\n"
    "/status - entries, heartbeat, positions\n"
    "/trades - the last closed trades\n"
    "/profit - realised and unrealised P&L\n"
    "/pause - stop new entries (exits keep running)\n"
    "/resume - allow new entries again\n"
    "/panic - cancel all orders and sell everything (asks for a code first)"
)
TRADES_SHOWN = 10


def status_text(view: dict[str, Any]) -> str:
    entries = "PAUSED (risk-off)" if view.get("risk_off") else "allowed"
    lines = [f"qtbot {view.get('mode')}/{view.get('exchange')}", f"entries: {entries}"]
    if view.get("panic_pending"):
        lines.append("panic: requested, runs at the next risk check")
    if view.get("entries_blocked_by"):
        lines.append("blocked: " + "; ".join(view["entries_blocked_by"]))
    beat = view.get("heartbeat")
    if beat is None:
        lines.append("daemon: no heartbeat yet")
    else:
        state = "running" if beat.get("running") else "stopped"
        lines.append(f"daemon: {state}, last beat {beat.get('age_seconds')}s ago")
    positions = view.get("positions") or []
    if not positions:
        lines.append("positions: none")
    for row in positions:
        pnl = row.get("gain_pct")
        lines.append(
            f"{row.get('symbol')}: {row.get('size')}" + (f" ({pnl}%)" if pnl is not None else "")
        )
    lines.append(f"open orders: {len(view.get('open_orders') or [])}")
    return "\n".join(lines)


def trades_text(trades: list[dict[str, Any]]) -> str:
    if not trades:
        return "no closed trades yet"
    shown = trades[-TRADES_SHOWN:]
    lines = [f"last {len(shown)} of {len(trades)} closed trades:"]
    for t in shown:
        lines.append(
            f"{t['exit_at'][:10]} {t['symbol']} {t['pnl']} ({t['pnl_pct']}%) {t['reason']}"
        )
    return "\n".join(lines)


def profit_text(view: dict[str, Any]) -> str:
    quote = view.get("quote", "")
    lines = [
        f"realised: {view.get('realised_pnl')} {quote}",
        f"unrealised: {view.get('unrealised_pnl')} {quote}",
        f"total: {view.get('total_pnl')} {quote}",
        f"trades: {view.get('trades')} (win rate {view.get('win_rate_pct')}%)",
    ]
    hold = view.get("buy_and_hold") or {}
    if hold.get("pct") is not None:
        lines.append(f"vs buy-and-hold: {hold.get('strategy_pct')}% vs {hold.get('pct')}%")
    account = view.get("account") or {}
    if account.get("equity") is not None:
        lines.append(f"equity: {account['equity']} {quote}")
    return "\n".join(lines)
