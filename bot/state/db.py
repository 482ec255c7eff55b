"""Engine creation (SQLite WAL + foreign keys, or any SQLAlchemy URL), schema versioning and
the checks every open runs.

Migrations are numbered steps in `MIGRATIONS`. The pending ones run in one transaction together
with the rows that record them, under a lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a
transaction-scoped advisory lock) and after re-reading the version inside it: two processes
opening a new database at once migrate it once, and a crash leaves the previous version intact.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    OperationalError,
)
from sqlmodel import SQLModel

from bot.state import models
from bot.state.errors import RESTORE_ADVICE, StoreError
from bot.state.identity import advisory_key, is_blank, is_sqlite, server_database, sqlite_file
from bot.state.integrity import check_amounts, check_file, check_schema, schema_of
from bot.state.plans_repo import create_strategy_tables
from exchanges.paper.store import PAPER_TABLES, upgrade_paper_tables

# Where versions before 7 kept the equity series (kv rows): read once by the v7 migration.
LEGACY_SERIES_KEY = "equity.series"
LEGACY_CURRENT_KEY = "equity.current"
# How long a connection waits for another writer (a migration, a job) before "database is locked".
BUSY_TIMEOUT_MS = 30_000


def _v1_initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(
        conn,
        tables=[
            models.Heartbeat.__table__,  # type: ignore[attr-defined]
            models.JournalEntry.__table__,  # type: ignore[attr-defined]
            models.KeyValue.__table__,  # type: ignore[attr-defined]
        ],
    )


def _as_released(table: Table, later: set[str]) -> Table:
    """`table` without the columns a later step adds, as its first step created it."""
    return Table(
        table.name,
        MetaData(),
        *[
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, index=c.index)
            for c in table.columns
            if c.name not in later
        ],
    )


def _v2_orders(conn: Connection) -> None:
    # Created as they were at v2; v6 adds trigger_price, v8 the marks' break-even columns, v9
    # the intents' refusal and moved_at.
    intents = models.OrderIntentRow.__table__  # type: ignore[attr-defined]
    _as_released(intents, {"trigger_price", "refusal", "moved_at"}).create(conn)
    marks = models.PositionMarksRow.__table__  # type: ignore[attr-defined]
    _as_released(marks, {"break_even", "tiers_skipped"}).create(conn)
    SQLModel.metadata.create_all(
        conn,
        tables=[models.FillRow.__table__],  # type: ignore[attr-defined]
    )


def _v3_paper(conn: Connection) -> None:
    SQLModel.metadata.create_all(
        conn,
        tables=[model.metadata.tables[model.__tablename__] for model in PAPER_TABLES],
    )


def _v4_liquidations(conn: Connection) -> None:
    SQLModel.metadata.create_all(
        conn,
        tables=[models.LiquidationBarRow.__table__],  # type: ignore[attr-defined]
    )


def _v5_strategy(conn: Connection) -> None:
    create_strategy_tables(conn)


def _v6_stop_orders(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE order_intent ADD COLUMN trigger_price VARCHAR"))
    upgrade_paper_tables(conn)


def _v7_equity_series(conn: Connection) -> None:
    """The equity series leaves the kv table (a JSON blob rewritten every minute) for rows."""
    table = models.EquityPointRow.__table__  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(conn, tables=[table])
    kv = models.KeyValue.__table__  # type: ignore[attr-defined]
    stored = conn.execute(select(kv.c.value).where(kv.c.key == LEGACY_SERIES_KEY)).scalar()
    current = conn.execute(select(kv.c.value).where(kv.c.key == LEGACY_CURRENT_KEY)).scalar()
    rows = {
        at: {"at": datetime.fromisoformat(at), "equity": value, "cash": None}
        for at, value in (json.loads(stored) if stored else [])
    }
    if current:
        latest = json.loads(current)
        rows[latest["at"]] = {
            "at": datetime.fromisoformat(latest["at"]),
            "equity": latest["equity"],
            "cash": latest.get("cash"),
        }
    if rows:
        conn.execute(table.insert(), list(rows.values()))
    conn.execute(kv.delete().where(kv.c.key.in_([LEGACY_SERIES_KEY, LEGACY_CURRENT_KEY])))


def _v8_marks_break_even(conn: Connection) -> None:
    """Marks keep the break-even level fixed when it is set, and the tiers the venue could not
    take; rows written before keep their behaviour (no level yet: set at the next check)."""
    conn.execute(text("ALTER TABLE position_marks ADD COLUMN break_even VARCHAR"))
    conn.execute(
        text("ALTER TABLE position_marks ADD COLUMN tiers_skipped VARCHAR NOT NULL DEFAULT ''")
    )


def _v9_intent_refusal_and_moves(conn: Connection) -> None:
    """Intents keep why they were refused (a refusal for the base a stop holds is retried once
    it is free) and when a resting order was amended; rows before keep NULL (final; never)."""
    conn.execute(text("ALTER TABLE order_intent ADD COLUMN refusal VARCHAR"))
    # The backend's own spelling of the column type (SQLite DATETIME, PostgreSQL TIMESTAMP ...).
    moved_at = models.UTCDateTime().compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE order_intent ADD COLUMN moved_at {moved_at}"))


# Append new steps; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "heartbeat, journal, kv", _v1_initial),
    (2, "order intents, fills, position marks", _v2_orders),
    (3, "paper engine balances, orders, fills", _v3_paper),
    (4, "hourly liquidation bars", _v4_liquidations),
    (5, "strategy plans and tranches", _v5_strategy),
    (6, "stop orders: trigger prices", _v6_stop_orders),
    (7, "equity series in its own table", _v7_equity_series),
    (8, "position marks: fixed break-even, skipped tiers", _v8_marks_break_even),
    (9, "order intents: refusal class, last amend", _v9_intent_refusal_and_moves),
]


def all_migrations() -> list[tuple[int, str, Callable[[Connection], None]]]:
    return sorted(MIGRATIONS, key=lambda m: m[0])


def schema_head() -> int:
    return max(version for version, _, _ in all_migrations())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # First, so that switching a new file to WAL waits for a concurrent opener too. Long enough
    # for a migration on a loaded 2-core VPS: a reader waiting beats "database is locked".
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL + NORMAL is durable across process crashes; only an OS crash may lose the last commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StoreError(
            f"QTBOT_DATABASE_URL={url!r} is not a SQLAlchemy URL "
            "(e.g. sqlite:///data/qtbot.sqlite or postgresql+psycopg://user:pw@host/db)"
        ) from None


def make_engine(url: str) -> Engine:
    """Create the engine; for SQLite, create the parent directory and turn on WAL + foreign keys."""
    parsed = parse_url(url)
    if not is_sqlite(parsed):
        try:
            return create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # missing driver, bad options
            raise StoreError(f"cannot use database {parsed!r}: {exc}") from None
    path = sqlite_file(parsed)
    if path is not None:
        try:
            # The store holds positions and order history: owner-only from the start.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {path.parent}: {exc.strerror}; "
                "set QTBOT_DATA_DIR to a writable directory"
            ) from None
        if path.is_dir():
            raise StoreError(f"database path {path} is a directory, not a file")
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    if path is not None and not path.exists():
        _create_private(path)
    return engine


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by the owner only; SQLite gives its -wal and -shm
    files the same permissions."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _current_version(conn: Connection) -> int | None:
    tables = set(inspect(conn).get_table_names())
    if "schema_version" not in tables:
        if tables:
            raise StoreError(
                f"the database holds tables {sorted(tables)[:5]} but no qtbot schema: "
                "it is not a qtbot database; point QTBOT_DATABASE_URL at a new file"
            )
        return None
    row = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    return int(row) if row is not None else None


def _refuse_newer(current: int | None, head: int) -> None:
    if current is not None and current > head:
        raise StoreError(
            f"the database is at schema version {current} but this qtbot knows only up to "
            f"{head}: upgrade qtbot or use another database"
        )


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """One transaction that only one process at a time can be in while migrating."""
    if is_sqlite(engine.url):
        # pysqlite would open a deferred transaction (and skip it for DDL); take the write lock
        # up front instead, so the version read inside cannot be stale.
        with engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                # SQLite may have rolled back already (a full disk): keep the first error.
                with contextlib.suppress(DBAPIError):
                    conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if engine.url.get_backend_name() == "postgresql":
            key = advisory_key("migrate", server_database(engine.url))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield conn


def _read_version(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return _current_version(conn)


def migrate(engine: Engine) -> int:
    """Bring the schema to the newest version; refuse databases from a newer qtbot."""
    head = schema_head()
    try:
        current = _read_version(engine)
        _refuse_newer(current, head)
        if current == head:  # the common case: no lock, no write
            return head
        try:
            with _schema_lock(engine) as conn:
                _apply_pending(conn, head)
        except IntegrityError:
            # Backends without a migration lock: someone else recorded the same step first.
            if _read_version(engine) != head:
                raise
    except StoreError:
        raise
    except (DatabaseError, OperationalError) as exc:
        raise StoreError(f"cannot open the database {engine.url!r}: {_reason(exc)}") from None
    return head


def _apply_pending(conn: Connection, head: int) -> None:
    # Read again under the lock: another process may have migrated since the first look.
    current = _current_version(conn)
    _refuse_newer(current, head)
    if current is None:
        models.SchemaVersion.__table__.create(conn)  # type: ignore[attr-defined]
        current = 0
    for version, note, step in all_migrations():
        if version <= current:
            continue
        step(conn)
        conn.execute(
            models.SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=version, applied_at=datetime.now(UTC), note=note
            )
        )


def _reason(exc: DatabaseError | OperationalError) -> str:
    reason = str(exc.orig) if exc.orig else str(exc)
    if "malformed" in reason or "not a database" in reason:
        return f"{reason}; {RESTORE_ADVICE}"
    return reason


@functools.cache
def head_schema() -> dict[str, frozenset[str]]:
    """The tables and columns a new database has at the schema head, read back from an
    in-memory database the migrations just built (exactly what `check_schema` compares)."""
    engine = create_engine("sqlite://")
    try:
        migrate(engine)
        return schema_of(engine)
    finally:
        engine.dispose()


def _checked(engine: Engine, migrate_it: bool) -> Engine:
    """`engine` after the quick check, migrations (if asked) and the schema and amount checks;
    disposed and StoreError if any fails."""
    try:
        check_file(engine)
        version = migrate(engine) if migrate_it else _read_version(engine)
        _refuse_newer(version, schema_head())
        if version is None or version != schema_head():
            raise StoreError(
                f"the database is at schema version {version or 0} and this qtbot needs "
                f"{schema_head()}: start `qtbot run` (it upgrades the schema) and try again"
            )
        expected = head_schema()
        check_schema(engine, expected, version)
        check_amounts(engine, expected)
    except StoreError:
        engine.dispose()
        raise
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database {engine.url!r}: {_reason(exc)}") from None
    return engine


def open_store(url: str) -> Engine:
    """Engine with the schema at head, checked; raises StoreError with a clear message
    otherwise. Creates and migrates the database as needed."""
    return _checked(make_engine(url), migrate_it=True)


def open_store_if_present(url: str) -> Engine | None:
    """For commands that only read: None while there is no database yet (a missing or blank
    SQLite file, which a starting daemon may be creating this instant); never creates or
    migrates one. An existing database is checked as `open_store` checks it."""
    if is_blank(parse_url(url)):
        return None
    return _checked(make_engine(url), migrate_it=False)


def integrity_ok(engine: Engine) -> bool:
    """SQLite's own integrity check (other backends: assumed fine)."""
    if not is_sqlite(engine.url):
        return True
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
