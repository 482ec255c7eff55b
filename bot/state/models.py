"""SQLModel tables of the bot's own state. Domain logic never lives on these rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


def stored_utc(value: datetime) -> datetime:
    """A time as the store keeps it: aware, in UTC; a naive time is refused (its zone is a
    guess). The database columns and the backtest's in-memory store both go through this."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass a UTC-aware time")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else stored_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def decimal_or_none(text: str | None) -> Decimal | None:
    """Decimal columns are stored as text so every backend round-trips them exactly."""
    return None if text is None else Decimal(text)


def text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


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


class EquityPointRow(SQLModel, table=True):
    """The account's value over time (quote currency): one row per time bucket, the newest
    replaced until its bucket ends; the status page charts it, the daily summary reads it."""

    __tablename__ = "equity_point"

    at: datetime = Field(sa_column=_utc_column(primary_key=True))
    equity: str
    cash: str | None = None


class OrderIntentRow(SQLModel, table=True):
    """An order the bot decided to place: written before it is sent, updated from the venue.

    status: pending (recorded, send not confirmed), unknown (sent, outcome not known: look it up
    before anything else), open, closed (filled), canceled, rejected, expired, not_found (the
    venue never saw it; safe to send again with the same client id).
    Amounts and prices are Decimal text so every backend round-trips them exactly.
    """

    __tablename__ = "order_intent"

    client_order_id: str = Field(primary_key=True)
    cause: str = Field(index=True)
    kind: str
    symbol: str = Field(index=True)
    side: str
    type: str
    amount: str
    price: str | None = None
    tier: int | None = None
    reason: str = ""
    status: str = Field(index=True)
    exchange_order_id: str | None = None
    filled: str = "0"
    average: str | None = None
    fee: str = "0"
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    trigger_price: str | None = None  # stop orders resting on the venue (schema v6)


class FillRow(SQLModel, table=True):
    """A venue execution, recorded once (the venue's trade id is the key)."""

    __tablename__ = "fill"

    trade_id: str = Field(primary_key=True)
    symbol: str = Field(primary_key=True)
    client_order_id: str | None = Field(default=None, index=True)
    exchange_order_id: str | None = None
    side: str
    amount: str
    price: str
    fee: str
    fee_asset: str
    is_maker: bool = False
    tier: int | None = None
    kind: str | None = None
    timestamp: datetime = Field(sa_column=_utc_column(nullable=False, index=True))
    recorded_at: datetime = Field(sa_column=_utc_column(nullable=False))


class PositionMarksRow(SQLModel, table=True):
    """Risk state fills cannot rebuild: high-water mark and trailing stop of the current cycle."""

    __tablename__ = "position_marks"

    symbol: str = Field(primary_key=True)
    cycle_id: str
    high_water_mark: str
    trailing_stop: str | None = None
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))


class LiquidationBarRow(SQLModel, table=True):
    """Liquidated notional per hour and symbol ("*" = all symbols), summed as events arrive.

    Hourly bars instead of raw events keep the table small on a busy all-market stream while
    still feeding the flush detector's 24 h windows and 30-window baseline.
    """

    __tablename__ = "liquidation_bar"

    start: datetime = Field(sa_column=_utc_column(primary_key=True))
    symbol: str = Field(primary_key=True)
    long_usd: float = 0.0
    short_usd: float = 0.0
    events: int = 0
