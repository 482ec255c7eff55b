"""`qtbot regime`, `qtbot regime history` and `qtbot liquidations`: the options.

Imported when `qtbot` starts: only typer and the standard library at module level; the bodies
(`bot.cli.signal_reports`: settings, store, Fed series) are imported when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import CONTEXT_SETTINGS, EnvFile, JsonFlag

regime_app = typer.Typer(
    help="The Fed regime the bot trades on (current state, pivots, history).",
    invoke_without_command=True,
    no_args_is_help=False,
    # Plain help: typer's rich panels print every flag as `--json <bool>`.
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


@regime_app.callback()
def regime(ctx: typer.Context, json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Current regime, where it came from, as-of date and the last pivot."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.cli.signal_reports import print_regime  # noqa: PLC0415 - settings, store: ~0.5 s

    print_regime(json_output, env_file)


@regime_app.command("history")
def history(
    since: Annotated[
        str | None, typer.Option("--from", help="first date shown, YYYY-MM-DD")
    ] = None,
    json_output: JsonFlag = False,
    env_file: EnvFile = None,
) -> None:
    """Regime periods (start, end, regime, balance sheet, rate, the Fed action that started
    each) and pivots with their causing actions."""
    from bot.cli.signal_reports import print_history  # noqa: PLC0415 - settings, store: ~0.5 s

    print_history(since, json_output, env_file)


def liquidations(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Liquidation totals (1h, 24h, longs vs shorts), whether the feed is receiving, and the
    last flush."""
    from bot.cli.signal_reports import print_liquidations  # noqa: PLC0415 - settings, store

    print_liquidations(json_output, env_file)
