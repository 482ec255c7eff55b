"""Helpers every `qtbot` command shares: settings, store and failing in one clear line.

Imported when `qtbot` starts, so only typer and the standard library at module level: the
settings (pydantic) and the store (SQLAlchemy) cost ~0.5 s to import and are imported by the
helpers that need them, keeping `qtbot --help` fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from bot.config.settings import Settings
    from bot.state.store import Store

EnvFile = Annotated[
    Path | None,
    typer.Option("--env-file", help="dotenv file to read settings from (default: ./.env)"),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="machine-readable output")]

# `-h` as well as `--help`, on the app and on every command (sub-apps inherit the setting).
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def fail(lines: list[str] | str, status: int = 2) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(f"qtbot: {line}", err=True)
    raise typer.Exit(status)


def settings_or_exit(env_file: Path | None) -> Settings:
    from bot.config.settings import ConfigError, load_settings  # noqa: PLC0415 - pydantic

    if env_file is not None and not env_file.is_file():
        fail(f"config error: --env-file {env_file} does not exist")
    try:
        return load_settings(env_file or Path(".env"))
    except ConfigError as exc:
        fail([f"config error: {p}" for p in exc.problems])


def open_store_or_exit(settings: Settings) -> Store:
    """The store for commands that write (created and migrated as needed), or exit 2."""
    from bot.state.db import StoreError  # noqa: PLC0415 - SQLAlchemy: ~0.3 s
    from bot.state.store import Store  # noqa: PLC0415 - SQLAlchemy: ~0.3 s

    try:
        return Store.open(settings.effective_database_url)
    except StoreError as exc:
        fail(f"database error: {exc}")


def open_existing_store_or_exit(settings: Settings) -> Store | None:
    """The store for commands that only read: None while there is no database yet; never
    creates or migrates one (an older schema is one line asking for `qtbot run`), or exit 2."""
    from bot.state.db import StoreError  # noqa: PLC0415 - SQLAlchemy: ~0.3 s
    from bot.state.store import Store  # noqa: PLC0415 - SQLAlchemy: ~0.3 s

    try:
        return Store.open_if_present(settings.effective_database_url)
    except StoreError as exc:
        fail(f"database error: {exc}")
