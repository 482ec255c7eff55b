"""Where a study's trials live: Optuna's own storages, so several processes (or machines) join
one study by name, Optuna's distributed mode.

- a SQLAlchemy URL (`sqlite:///research.sqlite`, `postgresql+psycopg://...`): `RDBStorage`.
  SQLite serialises writers; a trial writes a few rows per several seconds of backtest, so a
  handful of local workers wait briefly on its lock (`timeout`) rather than fail. For many
  workers or several machines, use PostgreSQL.
- `journal:PATH`: `JournalStorage` on an append-only file with its own file lock, the form
  Optuna's documentation suggests for many processes on one machine without a server.

Trials send a heartbeat, so the trials of a worker that died are marked failed when the study
resumes instead of blocking it as "running" forever.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.url_secrets import mask_url

JOURNAL_PREFIX = "journal:"
HEARTBEAT_SECONDS = 60
SQLITE_LOCK_WAIT_SECONDS = 120


class StorageError(ValueError):
    """A storage that cannot be opened (one line)."""


def check_storage_url(url: str) -> None:
    if url.startswith(JOURNAL_PREFIX):
        if not url.removeprefix(JOURNAL_PREFIX):
            raise StorageError("--storage journal:PATH needs a file path after journal:")
        return
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise StorageError(
            f"--storage {mask_url(url)!r} is neither a database URL (sqlite:///research.sqlite, "
            "postgresql+psycopg://user:pw@host/db) nor journal:PATH"
        ) from None


def open_storage(url: str) -> BaseStorage:
    check_storage_url(url)
    if url.startswith(JOURNAL_PREFIX):
        path = Path(url.removeprefix(JOURNAL_PREFIX))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    parsed = make_url(url)
    engine_kwargs: dict[str, object] = {}
    if parsed.get_backend_name() == "sqlite":
        engine_kwargs["connect_args"] = {"timeout": SQLITE_LOCK_WAIT_SECONDS}
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Trial heartbeats are marked experimental; they are what lets a study resume after
        # a worker died, so the warning would only alarm.
        warnings.simplefilter("ignore", ExperimentalWarning)
        return _rdb(url, engine_kwargs)


def _rdb(url: str, engine_kwargs: dict[str, object]) -> RDBStorage:
    try:
        return RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=2 * HEARTBEAT_SECONDS,
        )
    except Exception as exc:  # driver missing, server down, file unwritable: one line
        raise StorageError(f"cannot open the study storage {mask_url(url)}: {exc}") from None


def quiet_optuna() -> None:
    """Optuna logs every trial at INFO; the sweep reports progress itself."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
