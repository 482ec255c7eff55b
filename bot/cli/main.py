"""`qtbot` command line. Every command validates the whole config first and fails in one clear way.

Exit status: 0 ok, 1 runtime failure, 2 bad configuration or bad input (one line per problem,
no traceback).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli import backtest_commands
from bot.cli import data as cli_data
from bot.cli import research as cli_research
from bot.cli import trades as cli_trades
from bot.cli.common import (
    EnvFile,
    JsonFlag,
    fail,
    open_existing_store_or_exit,
    open_store_or_exit,
    settings_or_exit,
)
from bot.cli.signals import liquidations, regime_app
from bot.config.settings import Settings, public_view
from bot.ops.status import status_view
from bot.runtime.lock import AlreadyRunning, LockUnavailable
from bot.runtime.store_watch import StoreUnwritable
from bot.signals.calendar import CalendarFileError
from bot.state.db import StoreError
from exchanges.errors import ExchangeConfigError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="qtbot: Fed-pivot crypto trading daemon (paper trading by default).",
)


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="run every job once, then exit")] = False,
    env_file: EnvFile = None,
) -> None:
    """Start the daemon (paper mode unless configured otherwise)."""
    settings = settings_or_exit(env_file)
    # ccxt, APScheduler and aiohttp take ~1 s to import: only the commands that trade pay it.
    from bot.runtime.app import StartupError, run_daemon, setup_logging  # noqa: PLC0415

    setup_logging(settings)

    try:
        status = run_daemon(settings, once=once)
    except (AlreadyRunning, StoreUnwritable) as exc:
        fail(str(exc), 1)
    except StoreError as exc:
        fail(f"database error: {exc}")
    except (ExchangeConfigError, StartupError, LockUnavailable, CalendarFileError) as exc:
        fail(f"config error: {exc}")
    raise typer.Exit(status)


@app.command()
def config(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Print the effective configuration, secrets masked."""
    view = public_view(settings_or_exit(env_file))
    if json_output:
        typer.echo(json.dumps(view, indent=2, sort_keys=True))
        return
    for section, values in view.items():
        if isinstance(values, dict):
            fields = _section_fields(section)
            for key, value in values.items():
                field = fields.get(key)
                default_set = field is not None and field.default is not None
                text = _plain(value, off=default_set)
                if value is None and key in _NONE_SPELLED:
                    text = _NONE_SPELLED[key]
                typer.echo(f"QTBOT_{section.upper()}__{key.upper()}={text}")
        else:
            typer.echo(f"QTBOT_{section.upper()}={_plain(values)}")


# Settings whose "none" has a name of its own (read back by their validators).
_NONE_SPELLED = {"trailing_arm_after_tiers": "last"}


def _section_fields(section: str) -> dict[str, Any]:
    field = Settings.model_fields.get(section)
    model = field.annotation if field is not None else None
    return dict(getattr(model, "model_fields", {}))


def _plain(value: Any, off: bool = False) -> str:
    """`off` for a rule turned off whose default is on: an empty value would mean the
    default again, so the printed configuration must not be read back as something else."""
    if value is None:
        return "off" if off else ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _age(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    seconds = int((now - at).total_seconds())
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


@app.command()
def status(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Show mode, exchange, heartbeat and recent events from the store (no daemon needed)."""
    settings = settings_or_exit(env_file)
    # A reader: never creates or migrates the database under a daemon that is starting.
    store = open_existing_store_or_exit(settings)
    now = datetime.now(UTC)
    try:
        view = status_view(settings, store, now)
    except StoreError as exc:  # damage found while reading rows, after the checks on open
        fail(f"database error: {exc}")
    finally:
        if store:
            store.close()
    if json_output:
        typer.echo(json.dumps(view, indent=2, default=str))
        return
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


@app.command()
def panic(
    yes: Annotated[bool, typer.Option("--yes", help="confirm: cancel all, sell all")] = False,
    env_file: EnvFile = None,
) -> None:
    """Cancel every open order and market-sell every position; stops new entries."""
    settings = settings_or_exit(env_file)
    if not yes:
        fail("panic sells every position at market; confirm with `qtbot panic --yes`")
    from bot.runtime.app import run_panic, setup_logging  # noqa: PLC0415 - ccxt: ~1 s

    setup_logging(settings)
    try:
        lines = run_panic(settings)
    except StoreError as exc:
        fail(f"database error: {exc}")
    except (ExchangeConfigError, LockUnavailable) as exc:
        fail(f"config error: {exc}")
    for line in lines or ["nothing to do: no open orders, no positions"]:
        typer.echo(f"qtbot: {line}")


def _switch_risk_off(on: bool, env_file: Path | None) -> None:
    settings = settings_or_exit(env_file)
    store = open_store_or_exit(settings)
    try:
        reason = (
            "manual pause: no new entries, exits keep running"
            if on
            else "manual resume: entries allowed, drawdown peak restarts at current equity"
        )
        store.set_risk_off(on, datetime.now(UTC), reason)
    finally:
        store.close()
    typer.echo(f"qtbot: {reason}")
    if not on and settings.risk.risk_off:
        typer.echo("qtbot: note: QTBOT_RISK__RISK_OFF=true still blocks entries", err=True)


@app.command()
def pause(env_file: EnvFile = None) -> None:
    """Stop new entries (risk-off); exits keep running. Takes effect at the next job run."""
    _switch_risk_off(True, env_file)


@app.command()
def resume(env_file: EnvFile = None) -> None:
    """Allow new entries again after `qtbot pause`."""
    _switch_risk_off(False, env_file)


app.add_typer(regime_app, name="regime")
app.command()(liquidations)
app.command()(backtest_commands.backtest)
app.command()(backtest_commands.thesis)
# Commands kept in modules of their own; each imports only typer at module level.
app.command("download-data")(cli_data.download_data)
app.command()(cli_research.sweep)
app.command()(cli_trades.trades)
app.command()(cli_trades.profit)
app.command()(cli_trades.journal)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
