"""SQLModel tables of the bot's own state. Domain logic never lives on these rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from sqlalchemy import Column, DateTime, TypeDecorator
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Field, SQLModel

from bot.state.errors import damaged_value

# Column.info key marking Decimal-as-text columns; `bot.state.integrity` checks every value in
# them when the store opens. A plain string, so tables outside bot/ can carry it too.
DECIMAL_TEXT = "decimal_text"


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


def decimal_info() -> dict[str, Any]:
    """`sa_column_kwargs` of a Decimal column stored as text (exact on every backend)."""
    return {"info": {DECIMAL_TEXT: True}}


def _finite(value: object) -> Decimal | None:
    """`value` as a finite Decimal, or None when it is not one (text, NaN, infinity, NULL)."""
    if not isinstance(value, str):
        return None
    try:
        number = Decimal(value)
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def stored_decimal(value: object, table: str, key: str, column: str) -> Decimal:
    """A stored amount as a Decimal; a damaged one is reported by table, key and column
    instead of surfacing as a traceback wherever it is first used."""
    number = _finite(value)
    if number is None:
        raise damaged_value(table, key, column, value)
    return number


class PlainRow(Protocol):
    """A plain copy of a table row (`bot.state.memory_rows`): `TABLE` is the model it copies,
    so a damaged value in it is reported as in the table."""

    TABLE: ClassVar[type[SQLModel]]


def row_decimal(row: SQLModel | PlainRow, column: str) -> Decimal:
    value = getattr(row, column)
    number = _finite(value)
    if number is None:  # named only now: a sound read never builds the row's key
        mapper = sa_inspect(getattr(row, "TABLE", type(row)))
        key = ", ".join(f"{c.name}={getattr(row, c.key)!r}" for c in mapper.primary_key)
        raise damaged_value(mapper.local_table.description, key, column, value)
    return number


def row_decimal_or_none(row: SQLModel | PlainRow, column: str) -> Decimal | None:
    return None if getattr(row, column) is None else row_decimal(row, column)


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
    equity: str = Field(sa_column_kwargs=decimal_info())
    cash: str | None = Field(default=None, sa_column_kwargs=decimal_info())


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
    amount: str = Field(sa_column_kwargs=decimal_info())
    price: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    tier: int | None = None
    reason: str = ""
    status: str = Field(index=True)
    exchange_order_id: str | None = None
    filled: str = Field(default="0", sa_column_kwargs=decimal_info())
    average: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    fee: str = Field(default="0", sa_column_kwargs=decimal_info())
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Stop orders resting on the venue (schema v6).
    trigger_price: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    # Schema v9: why a `rejected` intent was refused (`bot.orders.intents.Refusal`; NULL before
    # v9: final), and when a resting order was last amended in place (NULL: never).
    refusal: str | None = None
    moved_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class FillRow(SQLModel, table=True):
    """A venue execution, recorded once (the venue's trade id is the key)."""

    __tablename__ = "fill"

    trade_id: str = Field(primary_key=True)
    symbol: str = Field(primary_key=True)
    client_order_id: str | None = Field(default=None, index=True)
    exchange_order_id: str | None = None
    side: str
    amount: str = Field(sa_column_kwargs=decimal_info())
    price: str = Field(sa_column_kwargs=decimal_info())
    fee: str = Field(sa_column_kwargs=decimal_info())
    fee_asset: str
    is_maker: bool = False
    tier: int | None = None
    kind: str | None = None
    timestamp: datetime = Field(sa_column=_utc_column(nullable=False, index=True))
    recorded_at: datetime = Field(sa_column=_utc_column(nullable=False))


class PositionMarksRow(SQLModel, table=True):
    """Risk state fills cannot rebuild: high-water mark, trailing stop, fixed break-even level
    and skipped tiers of the current cycle (`tiers_skipped`: comma-separated tier numbers)."""

    __tablename__ = "position_marks"

    symbol: str = Field(primary_key=True)
    cycle_id: str
    high_water_mark: str = Field(sa_column_kwargs=decimal_info())
    trailing_stop: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    break_even: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    tiers_skipped: str = ""
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
