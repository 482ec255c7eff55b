"""Helpers every `qtbot` command shares: settings, store and failing in one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.engine import make_url

from bot.config.settings import ConfigError, Settings, load_settings
from bot.state.db import StoreError
from bot.state.store import Store

EnvFile = Annotated[
    Path | None,
    typer.Option("--env-file", help="dotenv file to read settings from (default: ./.env)"),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def fail(lines: list[str] | str, status: int = 2) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(f"qtbot: {line}", err=True)
    raise typer.Exit(status)


def settings_or_exit(env_file: Path | None) -> Settings:
    if env_file is not None and not env_file.is_file():
        fail(f"config error: --env-file {env_file} does not exist")
    try:
        return load_settings(env_file or Path(".env"))
    except ConfigError as exc:
        fail([f"config error: {p}" for p in exc.problems])


def store_exists(settings: Settings) -> bool:
    """Whether there is a database to open. Only a missing SQLite file is "not yet": anything
    else at that path (a directory, say) is opened, so the user hears what is wrong with it."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return True
    return Path(url.database).exists()


def open_store_or_exit(settings: Settings) -> Store:
    try:
        return Store.open(settings.effective_database_url)
    except StoreError as exc:
        fail(f"database error: {exc}")
