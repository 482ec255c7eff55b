"""`qtbot` command line. Every command validates the whole config first and fails in one clear way.

Exit status: 0 ok, 1 runtime failure, 2 bad configuration or bad input (one line per problem,
no traceback).

Imported whenever `qtbot` starts, `--help` included: only typer, the standard library and the
light command modules at module level. Settings (pydantic), the store (SQLAlchemy), ccxt and
numpy are imported inside the commands that use them (`benchmarks/bench_startup.py`).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import backtest_commands
from bot.cli import data as cli_data
from bot.cli import research as cli_research
from bot.cli import trades as cli_trades
from bot.cli.common import (
    CONTEXT_SETTINGS,
    EnvFile,
    JsonFlag,
    fail,
    open_existing_store_or_exit,
    open_store_or_exit,
    settings_or_exit,
)
from bot.cli.signals import liquidations, regime_app
from bot.cli.status_text import print_status

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="qtbot: Fed-pivot crypto trading daemon (paper trading by default).",
    # Plain help: typer's rich panels print every flag as `--json <bool>` (they show the
    # option's type whether or not it takes a value), and importing rich costs ~70 ms.
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


def _version() -> str:
    # importlib.metadata costs ~25 ms of the ~70 ms `qtbot --help` imports: only for --version.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("qtbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed: pip install -e .)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"qtbot {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="print the version and exit", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """qtbot: Fed-pivot crypto trading daemon (paper trading by default)."""


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="run every job once, then exit")] = False,
    env_file: EnvFile = None,
) -> None:
    """Start the daemon (paper mode unless configured otherwise)."""
    settings = settings_or_exit(env_file)
    # ccxt, APScheduler and aiohttp take ~1 s to import: only the commands that trade pay it.
    from bot.runtime.app import StartupError, run_daemon, setup_logging  # noqa: PLC0415
    from bot.runtime.lock import AlreadyRunning, LockUnavailable  # noqa: PLC0415 - as above
    from bot.runtime.store_watch import StoreUnwritable  # noqa: PLC0415 - as above
    from bot.signals.calendar import CalendarFileError  # noqa: PLC0415 - as above
    from bot.state.db import StoreError  # noqa: PLC0415 - as above
    from exchanges.errors import ExchangeConfigError  # noqa: PLC0415 - as above

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
def config(
    json_output: JsonFlag = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="only the settings that differ from the defaults")
    ] = False,
    env_file: EnvFile = None,
) -> None:
    """Print the effective configuration, secrets masked."""
    settings = settings_or_exit(env_file)
    from bot.cli.config_text import config_lines, config_view  # noqa: PLC0415 - pydantic

    view = config_view(settings, diff)
    if json_output:
        typer.echo(json.dumps(view, indent=2, sort_keys=True))
        return
    for line in config_lines(view):
        typer.echo(line)
    if diff and not view:
        typer.echo("qtbot: every setting is at its default", err=True)


@app.command()
def status(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Health first (what is failing, since when), then mode, equity and balances, plans,
    positions, orders and recent events, from the store (no daemon needed)."""
    settings = settings_or_exit(env_file)
    from bot.ops.status import status_view  # noqa: PLC0415 - SQLAlchemy: ~0.3 s
    from bot.state.db import StoreError  # noqa: PLC0415 - SQLAlchemy: ~0.3 s

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
    print_status(view, now)


@app.command()
def doctor(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Check the setup: config, database, clock, credentials and their permissions, market
    data, FRED and liquidation feeds. One line per check; exit 1 if one fails."""
    from bot.cli.doctor import run_doctor  # noqa: PLC0415 - ccxt, settings, store: ~1 s

    raise typer.Exit(run_doctor(env_file, json_output))


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
    from bot.runtime.lock import LockUnavailable  # noqa: PLC0415 - as above
    from bot.state.db import StoreError  # noqa: PLC0415 - as above
    from exchanges.errors import ExchangeConfigError  # noqa: PLC0415 - as above

    setup_logging(settings)
    try:
        lines = run_panic(settings)
    except StoreError as exc:
        fail(f"database error: {exc}")
    except (ExchangeConfigError, LockUnavailable) as exc:
        fail(f"config error: {exc}")
    nothing = (
        "nothing to do: no open orders, no positions; new entries are now paused "
        "(`qtbot resume` allows them again)"
    )
    for line in lines or [nothing]:
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
