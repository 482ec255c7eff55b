"""How `qtbot status` prints its view (`bot.ops.status.status_view`) for people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer


def _age(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    seconds = int((now - at).total_seconds())
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


def print_status(view: dict[str, Any], now: datetime) -> None:
    health = view["health"]
    typer.echo(f"health:    {health['line']}")
    typer.echo(f"mode:      {view['mode']} on {view['exchange']}")
    typer.echo(f"database:  {view['database']}")
    typer.echo(f"entries:   {'PAUSED (risk-off)' if view['risk_off'] else 'allowed'}")
    beat = view["heartbeat"]
    if beat is None:
        typer.echo("heartbeat: never" + (f" ({view['note']})" if "note" in view else ""))
    else:
        state = "running" if beat["running"] else "stopped"
        typer.echo(
            f"heartbeat: {_age(datetime.fromisoformat(beat['at']), now)} "
            f"(pid {beat['pid']} on {beat['host']}, {state})"
        )
    _print_account(view["account"])
    regime = view["regime"]
    if regime is not None:
        how = "MANUAL OVERRIDE" if regime["source"] == "override" else "from data"
        typer.echo(
            f"regime:    {regime['regime']} ({how}, since {regime['since']}; "
            f"last easing pivot {regime['last_easing_pivot']})"
        )
    if view["entries_blocked_by"]:
        typer.echo(f"blocked:   {'; '.join(view['entries_blocked_by'])}")
    _print_plans(view["plans"])
    _print_positions(view["positions"])
    _print_orders(view["open_orders"])
    if view["recent_events"]:
        typer.echo("recent events:")
        for event in view["recent_events"]:
            typer.echo(f"  {event['at'][:19]}  {event['kind']:<16} {event['message']}")


def _print_account(account: dict[str, Any]) -> None:
    if account["equity"] is not None:
        when = account["valued_at"]
        how = f"valued {when[:19]}" if when else account["equity_note"]
        typer.echo(
            f"equity:    {account['equity']} {account['quote']} (cash {account['cash']}; {how})"
        )
    else:
        typer.echo(f"equity:    unknown ({account['equity_note']})")
    if account["balances"]:
        held = ", ".join(f"{asset} {amount}" for asset, amount in account["balances"].items())
        typer.echo(f"balances:  {held} ({account['balances_source']})")


def _print_positions(positions: list[dict[str, Any]]) -> None:
    if not positions:
        typer.echo("positions: none")
        return
    typer.echo("positions:")
    for p in positions:
        pnl = f"{p['unrealized_pnl']} ({p['gain_pct']}%)" if p["last_price"] else "no price yet"
        nxt = p["next_tier"]
        tier = f"tier {nxt['tier']} at {nxt['price']} (+{nxt['gain_pct']}%)" if nxt else "all taken"
        typer.echo(
            f"  {p['symbol']:<10} size {p['size']} avg {p['avg_entry']} last {p['last_price']} "
            f"pnl {pnl}; next {tier}; trailing {p['trailing_stop'] or 'not armed'}; "
            f"hard stop {p['hard_stop'] or 'off'}"
        )
        stop = p["exchange_stop"]
        resting = (
            f"sell {stop['amount']} at {stop['trigger_price']} (limit {stop['limit_price']}, "
            f"{stop['client_order_id']}, last moved {stop['last_moved'][:19]})"
            if stop
            else "none"
        )
        flag = f"  MISMATCH: {p['stop_mismatch']}" if p["stop_mismatch"] else ""
        typer.echo(
            f"             daemon stop {p['daemon_stop'] or 'none'}; exchange stop {resting}{flag}"
        )
        typer.echo(f"             exchange stop view: {p['stop_source']['note']}")
        if p["stop_notice"]:
            typer.echo(f"             NOTICE: {p['stop_notice']}")


def _print_plans(plans: list[dict[str, Any]]) -> None:
    if not plans:
        typer.echo("plans:     none")
        return
    typer.echo("plans:")
    for plan in plans:
        typer.echo(f"  {plan['summary']}")


def _print_orders(orders: list[dict[str, Any]]) -> None:
    if not orders:
        typer.echo("open orders: none")
        return
    typer.echo("open orders:")
    for o in orders:
        price = f" @ {o['price']}" if o["price"] else ""
        typer.echo(
            f"  {o['symbol']:<10} {o['side']} {o['amount']}{price} {o['type']} "
            f"[{o['status']}, filled {o['filled']}] {o['kind']} {o['client_order_id']}"
        )
