"""Which database a URL names, whatever its spelling: the real path of a SQLite file, or the
server database behind any other URL, with the keys of the advisory locks taken on it.

`data/qtbot.sqlite`, `$PWD/data/qtbot.sqlite`, a symlinked directory, `a/../data`, `sqlite:///`
and `sqlite:////abs`, `?timeout=` and `file:` URIs all name one file; the single-instance lock and
the engine must agree on which.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL

_TRUE = {"1", "true", "yes", "on"}


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _query_value(url: URL, name: str) -> str:
    value = url.query.get(name, "")
    return (value[-1] if value else "") if isinstance(value, tuple) else value


def _uri_filename(database: str, url: URL) -> str | None:
    """The file a SQLite `file:` URI names (None: in memory or a private temporary file)."""
    if _query_value(url, "mode") == "memory":
        return None
    rest = database.removeprefix("file:")
    if rest.startswith("//"):  # file://[localhost]/abs/path
        _authority, _, path = rest[2:].partition("/")
        rest = "/" + path
    path = unquote(rest)
    return None if path in ("", ":memory:") else path


def sqlite_file(url: URL) -> Path | None:
    """The real path of the SQLite file `url` names (relative to the working directory, as
    SQLite opens it), or None for an in-memory database. The file need not exist yet."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:") and _query_value(url, "uri").lower() in _TRUE:
        found = _uri_filename(database, url)
        if found is None:
            return None
        database = found
    real = os.path.realpath(os.path.join(os.getcwd(), database))
    # POSIX leaves a leading "//" alone; on Linux it is "/", and one file must have one name.
    return Path("/" + real.lstrip("/"))


def is_blank(url: URL) -> bool:
    """Whether `url` names a SQLite file with nothing in it yet: missing, empty, or without a
    single table (a daemon is creating it). Read without creating or changing anything; a file
    that cannot be read counts as not blank, so opening it reports what is wrong."""
    if not is_sqlite(url):
        return False
    path = sqlite_file(url)
    if path is None:
        return False
    try:
        if path.stat().st_size == 0:
            return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        # mode=rw: never create the file; reading sqlite_master writes nothing.
        reader = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=5)
        with contextlib.closing(reader):
            return reader.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    except sqlite3.Error:
        return False


def server_database(url: URL) -> str:
    """A server database as the lock keys see it: backend and database name. Advisory locks
    are scoped to the server (and, on PostgreSQL, to the database), so the host's spelling
    does not matter."""
    return f"{url.get_backend_name()}:{url.database or ''}"


def advisory_key(purpose: str, database: str) -> int:
    """A signed 64-bit key (PostgreSQL's bigint) for one purpose on one database."""
    digest = hashlib.sha256(f"qtbot:{purpose}:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
