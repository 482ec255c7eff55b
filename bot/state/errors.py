"""The store's one error type and the advice every "damaged database" message ends with."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


# What a person can do about a database qtbot cannot trust: nothing here repairs it in place.
RESTORE_ADVICE = (
    "restore the database from a backup, or point QTBOT_DATABASE_URL at a new file to start afresh"
)


def damaged_value(table: str, key: str, column: str, value: object) -> StoreError:
    """A stored amount that is not a finite number, named so a person can find and fix the row."""
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return StoreError(
        f"the database is damaged: {table} row {key} has {column}={shown}, not a number; "
        f"fix that row or {RESTORE_ADVICE}"
    )
