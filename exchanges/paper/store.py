"""Persistent paper ledger: SQLModel tables `paper_balance`, `paper_order`, `paper_fill`.

Works on any SQLAlchemy engine the caller passes in. Decimals are stored as their exact string
form (SQLite has no exact decimal type); datetimes as timezone-aware columns, read back as UTC.
Every `LedgerChange` is written in one transaction, so a crash never leaves half a fill.
The full state is cached in memory at construction; one process owns a ledger at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, select

from exchanges.base import Fill, Order, OrderStatus, OrderType, Side
from exchanges.paper.ledger import (
    AssetBalance,
    InMemoryPaperLedger,
    LedgerChange,
    PaperLedger,
    PaperOrder,
    check_transitions,
)


def _utc_column() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False)


class PaperBalanceRow(SQLModel, table=True):
    __tablename__ = "paper_balance"

    asset: str = Field(primary_key=True)
    free: str
    used: str


class PaperOrderRow(SQLModel, table=True):
    __tablename__ = "paper_order"

    client_order_id: str = Field(primary_key=True)
    seq: int = Field(index=True, unique=True)
    exchange_order_id: str
    symbol: str = Field(index=True)
    side: str
    order_type: str
    amount: str
    price: str | None = None
    status: str = Field(index=True)
    filled: str
    average: str | None = None
    fee: str
    created_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())
    reserve_asset: str
    reserved: str
    reserve_fee: str
    filled_cost: str
    trigger_price: str | None = None
    triggered: bool = False


class PaperFillRow(SQLModel, table=True):
    __tablename__ = "paper_fill"

    trade_id: str = Field(primary_key=True)
    seq: int = Field(index=True, unique=True)
    client_order_id: str | None = Field(default=None, index=True)
    exchange_order_id: str | None = None
    symbol: str = Field(index=True)
    side: str
    amount: str
    price: str
    fee: str
    fee_asset: str
    timestamp: datetime = Field(sa_column=_utc_column())
    is_maker: bool


PAPER_TABLES = (PaperBalanceRow, PaperOrderRow, PaperFillRow)


# Columns added after the paper tables were first released (stop orders): (name, DDL type).
_ADDED_ORDER_COLUMNS = (
    ("trigger_price", "VARCHAR"),
    ("triggered", "BOOLEAN NOT NULL DEFAULT FALSE"),
)


def create_paper_tables(engine: Engine) -> None:
    """Create the paper_* tables only (SQLModel's metadata is shared with the bot's store)."""
    tables = [model.metadata.tables[model.__tablename__] for model in PAPER_TABLES]
    SQLModel.metadata.create_all(engine, tables=tables)
    upgrade_paper_tables(engine)


def upgrade_paper_tables(bind: Engine | sa.Connection) -> list[str]:
    """Add the stop-order columns to a `paper_order` table created before them; idempotent.
    Returns the columns added. A schema migration step can call it with its connection."""
    inspector = sa.inspect(bind)
    if "paper_order" not in inspector.get_table_names():
        return []
    present = {c["name"] for c in inspector.get_columns("paper_order")}
    missing = [(name, ddl) for name, ddl in _ADDED_ORDER_COLUMNS if name not in present]
    if not missing:
        return []

    def add(conn: sa.Connection) -> None:
        for name, ddl in missing:
            conn.execute(sa.text(f"ALTER TABLE paper_order ADD COLUMN {name} {ddl}"))

    if isinstance(bind, sa.Connection):
        add(bind)
    else:
        with bind.begin() as conn:
            add(conn)
    return [name for name, _ in missing]


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _utc(value: datetime) -> datetime:
    # SQLite drops the offset; everything written here was UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _order_row(p: PaperOrder) -> PaperOrderRow:
    o = p.order
    return PaperOrderRow(
        client_order_id=o.client_order_id,
        seq=p.seq,
        exchange_order_id=o.exchange_order_id or "",
        symbol=o.symbol,
        side=o.side.value,
        order_type=o.type.value,
        amount=str(o.amount),
        price=_opt(o.price),
        status=o.status.value,
        filled=str(o.filled),
        average=_opt(o.average),
        fee=str(o.fee),
        created_at=_utc(o.created_at),
        updated_at=_utc(o.updated_at),
        reserve_asset=p.reserve_asset,
        reserved=str(p.reserved),
        reserve_fee=str(p.reserve_fee),
        filled_cost=str(p.filled_cost),
        trigger_price=_opt(o.trigger_price),
        triggered=o.triggered,
    )


def _paper_order(row: PaperOrderRow) -> PaperOrder:
    order = Order(
        client_order_id=row.client_order_id,
        exchange_order_id=row.exchange_order_id or None,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.order_type),
        amount=Decimal(row.amount),
        price=_dec(row.price),
        status=OrderStatus(row.status),
        filled=Decimal(row.filled),
        average=_dec(row.average),
        fee=Decimal(row.fee),
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        trigger_price=_dec(row.trigger_price),
        triggered=bool(row.triggered),
    )
    return PaperOrder(
        order=order,
        seq=row.seq,
        reserve_asset=row.reserve_asset,
        reserved=Decimal(row.reserved),
        reserve_fee=Decimal(row.reserve_fee),
        filled_cost=Decimal(row.filled_cost),
    )


def _fill_row(f: Fill, seq: int) -> PaperFillRow:
    return PaperFillRow(
        trade_id=f.trade_id,
        seq=seq,
        client_order_id=f.client_order_id,
        exchange_order_id=f.exchange_order_id,
        symbol=f.symbol,
        side=f.side.value,
        amount=str(f.amount),
        price=str(f.price),
        fee=str(f.fee),
        fee_asset=f.fee_asset,
        timestamp=_utc(f.timestamp),
        is_maker=f.is_maker,
    )


def _fill(row: PaperFillRow) -> Fill:
    return Fill(
        trade_id=row.trade_id,
        client_order_id=row.client_order_id,
        exchange_order_id=row.exchange_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        amount=Decimal(row.amount),
        price=Decimal(row.price),
        fee=Decimal(row.fee),
        fee_asset=row.fee_asset,
        timestamp=_utc(row.timestamp),
        is_maker=row.is_maker,
    )


def stored_balances(engine: Engine) -> dict[str, Decimal]:
    """Each asset's paper balance (free + reserved) as the ledger last stored it, for readers
    that need no orders or fills; {} when this database has no paper ledger (testnet, live)."""
    try:
        with Session(engine) as session:
            rows = session.exec(select(PaperBalanceRow)).all()
    except SQLAlchemyError:
        return {}
    return {row.asset: Decimal(row.free) + Decimal(row.used) for row in rows}


class SqlPaperLedger:
    """`PaperLedger` persisted through SQLAlchemy; reads are served from an in-memory copy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache = InMemoryPaperLedger()
        # A database from before stop orders lacks their columns; adding them is harmless.
        upgrade_paper_tables(engine)
        self._load()

    def _load(self) -> None:
        with Session(self._engine) as session:
            balance_rows = session.exec(select(PaperBalanceRow)).all()
            order_rows = session.exec(select(PaperOrderRow).order_by(col(PaperOrderRow.seq))).all()
            fill_rows = session.exec(select(PaperFillRow).order_by(col(PaperFillRow.seq))).all()
        balances = {
            row.asset: AssetBalance(free=Decimal(row.free), used=Decimal(row.used))
            for row in balance_rows
        }
        if balance_rows or order_rows:
            self._cache = InMemoryPaperLedger.from_state(
                balances,
                [_paper_order(row) for row in order_rows],
                [_fill(row) for row in fill_rows],
            )

    def seed_balances(self, balances: Mapping[str, Decimal]) -> bool:
        if not self._cache.seed_balances(balances):
            return False
        with Session(self._engine) as session, session.begin():
            for asset, amount in balances.items():
                session.merge(PaperBalanceRow(asset=asset, free=str(amount), used="0"))
        return True

    def balances(self) -> dict[str, AssetBalance]:
        return self._cache.balances()

    def get_order(self, client_order_id: str) -> PaperOrder | None:
        return self._cache.get_order(client_order_id)

    def open_orders(self, symbol: str | None = None) -> list[PaperOrder]:
        return self._cache.open_orders(symbol)

    def fills(self, symbol: str | None = None, since: datetime | None = None) -> list[Fill]:
        return self._cache.fills(symbol, since)

    def order_count(self) -> int:
        return self._cache.order_count()

    def fill_count(self) -> int:
        return self._cache.fill_count()

    def apply(self, change: LedgerChange) -> None:
        self.apply_all([change])

    def apply_all(self, changes: Sequence[LedgerChange]) -> None:
        check_transitions(
            {
                c.order.order.client_order_id: o
                for c in changes
                if (o := self._cache.get_order(c.order.order.client_order_id)) is not None
            },
            changes,
        )
        seq = self._cache.fill_count() + 1
        with Session(self._engine) as session, session.begin():
            for change in changes:
                session.merge(_order_row(change.order))
                session.add_all(_fill_row(f, seq + i) for i, f in enumerate(change.fills))
                seq += len(change.fills)
                for asset, balance in change.balances.items():
                    session.merge(
                        PaperBalanceRow(asset=asset, free=str(balance.free), used=str(balance.used))
                    )
                # Same-session merges of one order twice: flush keeps them in sequence.
                session.flush()
        # Only after the commit: a failed transaction leaves the cache as the database is.
        for change in changes:
            self._cache.restore(change)


__all__ = [
    "PAPER_TABLES",
    "PaperBalanceRow",
    "PaperFillRow",
    "PaperLedger",
    "PaperOrderRow",
    "SqlPaperLedger",
    "create_paper_tables",
    "upgrade_paper_tables",
]
