"""Read-only journal queries the notifier and the status server need beyond `Store`: SQL over
`store.engine`, rows returned as `JournalView`s."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.state.models import JournalEntry
from bot.state.store import JournalView, Store, journal_view


def last_journal_id(store: Store) -> int:
    """The id of the newest journal row (0 when the journal is empty)."""
    with Session(store.engine) as session:
        return int(session.exec(select(func.max(JournalEntry.id))).one() or 0)


def journal_after(store: Store, after_id: int, limit: int = 200) -> list[JournalView]:
    """Rows with id > `after_id`, oldest first, at most `limit`."""
    with Session(store.engine) as session:
        query = (
            select(JournalEntry)
            .where(col(JournalEntry.id) > after_id)
            .order_by(col(JournalEntry.id))
            .limit(limit)
        )
        return [journal_view(row) for row in session.exec(query).all()]


def journal_between(
    store: Store, start: datetime, end: datetime, limit: int = 5000
) -> list[JournalView]:
    """Rows with `start` <= at < `end`, oldest first, at most `limit`."""
    with Session(store.engine) as session:
        query = (
            select(JournalEntry)
            .where(col(JournalEntry.at) >= start, col(JournalEntry.at) < end)
            .order_by(col(JournalEntry.id))
            .limit(limit)
        )
        return [journal_view(row) for row in session.exec(query).all()]


def journal_counts(store: Store) -> dict[tuple[str, str], int]:
    """How many rows the journal holds per (kind, level): a restart-proof event counter."""
    with Session(store.engine) as session:
        query = select(JournalEntry.kind, JournalEntry.level, func.count()).group_by(
            JournalEntry.kind, JournalEntry.level
        )
        return {(kind, level): int(n) for kind, level, n in session.exec(query).all()}
