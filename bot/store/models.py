"""SQLModel tables of the bot's own state. Domain logic never lives on these rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a UTC-aware time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(**kwargs: Any) -> Column[datetime]:
    return Column(UTCDateTime(), **kwargs)


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"

    version: int = Field(primary_key=True)
    applied_at: datetime = Field(sa_column=_utc_column(nullable=False))
    note: str = ""


class Heartbeat(SQLModel, table=True):
    """One row per daemon name, rewritten on every beat: `qtbot status` reads its age."""

    __tablename__ = "heartbeat"

    name: str = Field(primary_key=True)
    at: datetime = Field(sa_column=_utc_column(nullable=False))
    pid: int
    host: str
    mode: str
    exchange: str
    started_at: datetime = Field(sa_column=_utc_column(nullable=False))
    stopped_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class JournalEntry(SQLModel, table=True):
    """The event journal: every decision and notable event, with its reason, in order."""

    __tablename__ = "journal"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))
    kind: str = Field(index=True)
    level: str = "info"
    symbol: str | None = Field(default=None, index=True)
    message: str
    data: str = "{}"


class KeyValue(SQLModel, table=True):
    """Small named state: runtime switches (pause), cached snapshots, sync cursors."""

    __tablename__ = "kv"

    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
