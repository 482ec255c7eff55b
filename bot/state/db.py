"""Engine creation (SQLite WAL + foreign keys, or any SQLAlchemy URL) and schema versioning.

Migrations are numbered steps in `MIGRATIONS`; each runs in its own transaction together with the
row that records it, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlmodel import SQLModel

from bot.state import models
from bot.state.plans_repo import create_strategy_tables
from exchanges.paper.store import PAPER_TABLES, upgrade_paper_tables

# Where versions before 7 kept the equity series (kv rows): read once by the v7 migration.
LEGACY_SERIES_KEY = "equity.series"
LEGACY_CURRENT_KEY = "equity.current"


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


def _v1_initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(
        conn,
        tables=[
            models.Heartbeat.__table__,  # type: ignore[attr-defined]
            models.JournalEntry.__table__,  # type: ignore[attr-defined]
            models.KeyValue.__table__,  # type: ignore[attr-defined]
        ],
    )


def _v2_orders(conn: Connection) -> None:
    # Created as it was at v2; v6 adds trigger_price.
    table = models.OrderIntentRow.__table__  # type: ignore[attr-defined]
    v2_intents = Table(
        table.name,
        MetaData(),
        *[
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, index=c.index)
            for c in table.columns
            if c.name != "trigger_price"
        ],
    )
    v2_intents.create(conn)
    SQLModel.metadata.create_all(
        conn,
        tables=[
            models.FillRow.__table__,  # type: ignore[attr-defined]
            models.PositionMarksRow.__table__,  # type: ignore[attr-defined]
        ],
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


# Append new steps; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "heartbeat, journal, kv", _v1_initial),
    (2, "order intents, fills, position marks", _v2_orders),
    (3, "paper engine balances, orders, fills", _v3_paper),
    (4, "hourly liquidation bars", _v4_liquidations),
    (5, "strategy plans and tranches", _v5_strategy),
    (6, "stop orders: trigger prices", _v6_stop_orders),
    (7, "equity series in its own table", _v7_equity_series),
]


def all_migrations() -> list[tuple[int, str, Callable[[Connection], None]]]:
    return sorted(MIGRATIONS, key=lambda m: m[0])


def schema_head() -> int:
    return max(version for version, _, _ in all_migrations())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # WAL + NORMAL is durable across process crashes; only an OS crash may lose the last commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine; for SQLite, create the parent directory and turn on WAL + foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"QTBOT_DATABASE_URL={url!r} is not a SQLAlchemy URL "
            "(e.g. sqlite:///data/qtbot.sqlite or postgresql+psycopg://user:pw@host/db)"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # missing driver, bad options
            raise StoreError(f"cannot use database {parsed!r}: {exc}") from None
    database = parsed.database
    if database and database != ":memory:":
        path = Path(database)
        try:
            # The store holds positions and order history: owner-only from the start.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {path.parent}: {exc.strerror}; "
                "set QTBOT_DATA_DIR to a writable directory"
            ) from None
        if path.exists() and path.is_dir():
            raise StoreError(f"database path {path} is a directory, not a file")
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
    event.listen(engine, "connect", _sqlite_pragmas)
    if database and database != ":memory:" and not Path(database).exists():
        _create_private(Path(database))
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


def migrate(engine: Engine) -> int:
    """Bring the schema to the newest version; refuse databases from a newer qtbot."""
    head = schema_head()
    try:
        with engine.begin() as conn:
            current = _current_version(conn)
            if current is None:
                models.SchemaVersion.__table__.create(conn)  # type: ignore[attr-defined]
                current = 0
        if current > head:
            raise StoreError(
                f"the database is at schema version {current} but this qtbot knows only up to "
                f"{head}: upgrade qtbot or use another database"
            )
        for version, note, step in all_migrations():
            if version <= current:
                continue
            with engine.begin() as conn:
                step(conn)
                conn.execute(
                    models.SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                        version=version, applied_at=datetime.now(UTC), note=note
                    )
                )
            current = version
    except StoreError:
        raise
    except (DatabaseError, OperationalError) as exc:
        reason = str(exc.orig) if exc.orig else str(exc)
        raise StoreError(f"cannot open the database {engine.url!r}: {reason}") from None
    return current


def open_store(url: str) -> Engine:
    """Engine with the schema at head; raises StoreError with a clear message otherwise."""
    engine = make_engine(url)
    migrate(engine)
    return engine


def integrity_ok(engine: Engine) -> bool:
    """SQLite's own integrity check (other backends: assumed fine)."""
    if engine.url.get_backend_name() != "sqlite":
        return True
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
