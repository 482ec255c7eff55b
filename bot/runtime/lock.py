"""Single-instance lock: two daemons on one database would place every order twice.

The lock belongs to the database itself, not to how a setting spells it. A SQLite database is
locked by an flock on a file beside its real path (symlinks, `..`, relative and absolute
spellings and URL forms all resolve to one file); a server database by an advisory lock the
server holds for a dedicated connection (PostgreSQL `pg_try_advisory_lock`, MySQL `GET_LOCK`).
An in-memory SQLite database cannot be shared between processes and needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.state.db import StoreError, parse_url
from bot.state.identity import advisory_key, is_sqlite, server_database, sqlite_file

LOCK_SUFFIX = ".qtbot-lock"


class AlreadyRunning(Exception):
    """Another qtbot holds the lock for this database."""


class LockUnavailable(Exception):
    """The lock cannot be taken (a configuration problem, not another instance)."""


def _already_running(holder: str, where: str) -> AlreadyRunning:
    return AlreadyRunning(
        f"another qtbot ({holder}) is already running on this database ({where}); "
        "stop it first (e.g. systemctl stop qtbot) or point QTBOT_DATABASE_URL elsewhere"
    )


def _reason(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc)


class LockSession(Protocol):
    """The dedicated connection a server-side lock lives on (a fake one in tests)."""

    def scalar(self, sql: str, params: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


class _EngineSession:
    """A `LockSession` on one SQLAlchemy connection, in autocommit: the lock is held by the
    session, and an open transaction left idle for days would be killed by the server."""

    def __init__(self, url: URL) -> None:
        self._engine = create_engine(url, poolclass=NullPool, connect_args=_client_name(url))
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def scalar(self, sql: str, params: dict[str, Any]) -> Any:
        return self._conn.execute(text(sql), params).scalar()

    def close(self) -> None:
        self._conn.close()
        self._engine.dispose()


def _client_name(url: URL) -> dict[str, str]:
    """Name the session after this process, so a refused second daemon can say who holds it."""
    if url.get_backend_name() == "postgresql":
        return {"application_name": f"qtbot pid {os.getpid()} on {socket.gethostname()}"[:63]}
    return {}


class _ServerLock:
    """SQL of the advisory lock on one server backend."""

    def __init__(self, url: URL) -> None:
        self.backend = url.get_backend_name()
        self.database = server_database(url)
        self.key = advisory_key("daemon", self.database)

    @property
    def supported(self) -> bool:
        return self.backend in ("postgresql", "mysql", "mariadb")

    def try_acquire(self, session: LockSession) -> bool:
        if self.backend == "postgresql":
            return bool(session.scalar("SELECT pg_try_advisory_lock(:key)", {"key": self.key}))
        # MySQL lock names are server-wide: the key carries the database.
        return session.scalar("SELECT GET_LOCK(:name, 0)", {"name": self._name}) == 1

    def holder(self, session: LockSession) -> str:
        if self.backend != "postgresql":
            return "another connection"
        # A bigint advisory key shows in pg_locks as classid (high half) and objid (low half).
        name = session.scalar(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid = :hi AND l.objid = :lo AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
            {"hi": (self.key >> 32) & 0xFFFFFFFF, "lo": self.key & 0xFFFFFFFF},
        )
        return str(name).removeprefix("qtbot ") if name else "pid unknown"

    def release(self, session: LockSession) -> None:
        if self.backend == "postgresql":
            session.scalar("SELECT pg_advisory_unlock(:key)", {"key": self.key})
        else:
            session.scalar("SELECT RELEASE_LOCK(:name)", {"name": self._name})

    @property
    def _name(self) -> str:
        return f"qtbot-daemon-{self.key & 0xFFFFFFFFFFFFFFFF:016x}"


class InstanceLock:
    """Held for the daemon's lifetime; released by the kernel (flock) or the server (a closed
    session) even after SIGKILL."""

    def __init__(
        self, database_url: str, connect: Callable[[URL], LockSession] = _EngineSession
    ) -> None:
        try:
            self.url = parse_url(database_url)
        except StoreError as exc:
            raise LockUnavailable(str(exc)) from None
        self._connect = connect
        self._fd: int | None = None
        self._session: LockSession | None = None
        self._server = None if is_sqlite(self.url) else _ServerLock(self.url)
        # The SQLite file's real path and the lock file beside it (None: in memory or a server).
        self.database = sqlite_file(self.url) if self._server is None else None
        self.path = (
            None
            if self.database is None
            else self.database.with_name(self.database.name + LOCK_SUFFIX)
        )

    def acquire(self) -> None:
        if self._server is not None:
            self._acquire_server(self._server)
        elif self.database is not None and self.path is not None:
            self._acquire_file(self.database, self.path)

    def _acquire_file(self, database: Path, path: Path) -> None:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockUnavailable(
                f"cannot create the lock file {path}: {exc.strerror or exc}; "
                "set QTBOT_DATA_DIR (or QTBOT_DATABASE_URL) to a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise _already_running(f"pid {holder}", str(database)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def _acquire_server(self, server: _ServerLock) -> None:
        if not server.supported:
            raise LockUnavailable(
                f"qtbot cannot hold a single-instance lock on a {server.backend} database; "
                "use SQLite or PostgreSQL"
            )
        try:
            session = self._connect(self.url)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot take the lock on {self.url!r}: {_reason(exc)}") from None
        except Exception as exc:  # a missing driver
            raise StoreError(f"cannot use database {self.url!r}: {exc}") from None
        try:
            if server.try_acquire(session):
                self._session = session
                return
            holder = server.holder(session)
        except SQLAlchemyError as exc:
            session.close()
            raise StoreError(f"cannot take the lock on {self.url!r}: {_reason(exc)}") from None
        session.close()
        raise _already_running(holder, server.database)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._session is not None and self._server is not None:
            # Best effort: a lost connection has already dropped the lock with its session.
            with contextlib.suppress(SQLAlchemyError):
                self._server.release(self._session)
            with contextlib.suppress(SQLAlchemyError):
                self._session.close()
            self._session = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
