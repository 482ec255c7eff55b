"""Checks run when the store opens, so a damaged database is one clear line up front instead of
a traceback from whichever job first reads the damage: SQLite's quick check, every table and
column the schema head expects, and every stored amount a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import SQLModel

from bot.state.errors import RESTORE_ADVICE, StoreError
from bot.state.identity import is_sqlite
from bot.state.models import DECIMAL_TEXT, stored_decimal

# Table name -> column names, as the migrations leave a new database at the schema head.
Schema = Mapping[str, frozenset[str]]


def schema_of(engine: Engine) -> dict[str, frozenset[str]]:
    inspector = inspect(engine)
    return {
        table: frozenset(column["name"] for column in inspector.get_columns(table))
        for table in inspector.get_table_names()
    }


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def check_file(engine: Engine) -> None:
    """SQLite's `quick_check` (pages, records, indexes; not index contents): O(file size)."""
    if not is_sqlite(engine.url):
        return
    try:
        with engine.connect() as conn:
            found = [str(row[0]) for row in conn.execute(text("PRAGMA quick_check(3)"))]
    except DatabaseError as exc:
        # The check can stop at the damage instead of listing it (SQLITE_CORRUPT).
        reason = str(exc.orig or exc)
        if "malformed" not in reason:
            raise  # not a database at all, locked, unreadable: the caller words those
        found = [reason]
    if found != ["ok"]:
        # SQLite's report spans lines and starts with a banner; the message must be one line.
        lines = [line for text_ in found for line in text_.splitlines()]
        problems = [line for line in lines if not line.startswith("***")]
        raise StoreError(
            f"the database file is damaged (SQLite quick_check: {'; '.join(problems)}); "
            f"{RESTORE_ADVICE}"
        )


def check_schema(engine: Engine, expected: Schema, version: int) -> None:
    """Every table and column of the schema head is there (a dropped table or column would
    otherwise surface as 'no such table' from some job, minutes later)."""
    found = schema_of(engine)
    missing_tables = sorted(set(expected) - set(found))
    if missing_tables:
        raise StoreError(
            f"the database is damaged: schema version {version} but table(s) "
            f"{', '.join(missing_tables)} missing; {RESTORE_ADVICE}"
        )
    for table, columns in sorted(expected.items()):
        missing = sorted(columns - found[table])
        if missing:
            raise StoreError(
                f"the database is damaged: table {table} lacks column(s) {', '.join(missing)} "
                f"(schema version {version}); {RESTORE_ADVICE}"
            )


def check_amounts(engine: Engine, expected: Schema) -> None:
    """Every Decimal-as-text value parses to a finite number; the first bad one is named by
    table, key and column. One pass over the amount columns: the bot's tables stay small."""
    with engine.connect() as conn:
        for name in sorted(expected):
            table = SQLModel.metadata.tables.get(name)
            if table is None:
                continue
            amounts = [c for c in table.columns if c.info.get(DECIMAL_TEXT)]
            if not amounts:
                continue
            keys = list(table.primary_key.columns)
            for row in conn.execute(select(*keys, *amounts)):
                values = row._mapping
                key = ", ".join(f"{c.name}={_plain(values[c])!r}" for c in keys)
                for column in amounts:
                    if values[column] is not None:
                        stored_decimal(values[column], name, key, column.name)
