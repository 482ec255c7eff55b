"""`qtbot doctor`: is this setup able to trade? One line per check, exit 1 if one fails.

Checks, in order: config, database (opens, schema current, writable), clock against the venue,
market data, credentials and their permissions (testnet/live), FRED, liquidation feeds.
Nothing is changed: the database write is rolled back, no order is sent.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from bot.config.settings import ConfigError, Settings, load_settings
from bot.ops.doctor import (
    CheckResult,
    Outcome,
    config_result,
    database_result,
    exit_status,
    fred_result,
)
from bot.ops.doctor_venue import liquidation_results, venue_results
from bot.runtime.logs import configure_cli_logging


def run_doctor(env_file: Path | None, json_output: bool) -> int:
    settings_or_failure = _settings(env_file)
    if isinstance(settings_or_failure, CheckResult):
        results = [settings_or_failure]
    else:
        results = all_results(settings_or_failure)
    if json_output:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        for result in results:
            typer.echo(result.line())
        failed = [r.name for r in results if r.outcome is Outcome.FAIL]
        summary = f"{len(failed)} failing: {', '.join(failed)}" if failed else "no failure"
        typer.echo(f"doctor: {summary}")
    return exit_status(results)


def _settings(env_file: Path | None) -> Settings | CheckResult:
    if env_file is not None and not env_file.is_file():
        return CheckResult("config", Outcome.FAIL, f"--env-file {env_file} does not exist")
    try:
        return load_settings(env_file or Path(".env"))
    except ConfigError as exc:
        # Nothing else can be checked without a valid configuration.
        return CheckResult("config", Outcome.FAIL, "; ".join(exc.problems))


def all_results(settings: Settings) -> list[CheckResult]:
    configure_cli_logging(settings)  # the check lines say it all; no stray log lines
    results = [config_result(settings), database_result(settings, datetime.now(UTC))]

    async def venue_and_feeds() -> list[CheckResult]:
        venue = await venue_results(settings)
        fred = await asyncio.to_thread(fred_result, settings)
        return [*venue, fred, *await liquidation_results(settings)]

    return results + asyncio.run(venue_and_feeds())
