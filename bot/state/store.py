"""Repository over the store: the bot's code talks to this, never to sessions directly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Row, bindparam
from sqlmodel import Session, col, select

from bot.state.db import integrity_ok, open_store, open_store_if_present
from bot.state.equity_series import (
    DEFAULT_MAX_POINTS,
    DEFAULT_SPACING,
    EquityPoint,
    same_bucket,
)
from bot.state.models import (
    EquityPointRow,
    Heartbeat,
    JournalEntry,
    KeyValue,
    stored_decimal,
    text_or_none,
)
from bot.state.orders_repo import OrderRepo
from bot.state.runtime_state import EQUITY_MARKS_KEY, RISK_OFF_KEY

_KV_TABLE = KeyValue.__table__  # type: ignore[attr-defined]
_KV_SELECT = select(_KV_TABLE.c.value).where(_KV_TABLE.c.key == bindparam("k"))
_KV_UPDATE = (
    _KV_TABLE.update()
    .where(_KV_TABLE.c.key == bindparam("k"))
    .values(value=bindparam("v"), updated_at=bindparam("at"))
)

_EQUITY_TABLE = EquityPointRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HeartbeatView:
    name: str
    at: datetime
    pid: int
    host: str
    mode: str
    exchange: str
    started_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class JournalView:
    id: int
    at: datetime
    kind: str
    level: str
    symbol: str | None
    message: str
    data: dict[str, Any]


class Store:
    """Thin typed access to the tables; every write is its own transaction unless batched."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """The store at `url`, created and migrated as needed; StoreError when unusable."""
        return cls(open_store(url))

    @classmethod
    def open_if_present(cls, url: str) -> Store | None:
        """For readers: None while there is no database yet; never creates or migrates one."""
        engine = open_store_if_present(url)
        return None if engine is None else cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def integrity_ok(self) -> bool:
        return integrity_ok(self.engine)

    def order_repo(self) -> OrderRepo:
        """Order intents, fills and position marks kept beside this store's state."""
        return OrderRepo(self.engine)

    # --- heartbeat ---------------------------------------------------------------------------

    def beat(
        self,
        name: str,
        at: datetime,
        *,
        pid: int,
        host: str,
        mode: str,
        exchange: str,
        started_at: datetime,
        stopped: bool = False,
    ) -> None:
        with Session(self.engine) as session:
            session.merge(heartbeat_row(name, at, pid, host, mode, exchange, started_at, stopped))
            session.commit()

    def heartbeat(self, name: str = "daemon") -> HeartbeatView | None:
        with Session(self.engine) as session:
            row = session.get(Heartbeat, name)
            return None if row is None else heartbeat_view(row)

    # --- journal -----------------------------------------------------------------------------

    def journal(
        self,
        at: datetime,
        kind: str,
        message: str,
        *,
        level: str = "info",
        symbol: str | None = None,
        **data: Any,
    ) -> int:
        with Session(self.engine) as session:
            entry = journal_entry(at, kind, message, level, symbol, data)
            session.add(entry)
            session.commit()
            assert entry.id is not None
            return entry.id

    def recent_journal(self, limit: int = 20, kind: str | None = None) -> list[JournalView]:
        with Session(self.engine) as session:
            query = select(JournalEntry).order_by(col(JournalEntry.id).desc()).limit(limit)
            if kind is not None:
                query = query.where(JournalEntry.kind == kind)
            return [journal_view(r) for r in session.exec(query).all()]

    # --- equity series -------------------------------------------------------------------------

    def record_equity(
        self,
        now: datetime,
        equity: Decimal,
        cash: Decimal | None = None,
        spacing: timedelta = DEFAULT_SPACING,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        """Record the account value (quote currency) at `now`; see `bot.state.equity_series`."""
        table = _EQUITY_TABLE
        with self.engine.begin() as conn:
            last = conn.execute(select(table.c.at).order_by(table.c.at.desc()).limit(1)).scalar()
            if last is not None and now < last:
                return
            replace = last is not None and same_bucket(last, now, spacing)
            if replace:
                conn.execute(table.delete().where(table.c.at == last))
            conn.execute(table.insert().values(at=now, equity=str(equity), cash=text_or_none(cash)))
            if not replace:
                oldest_kept = (
                    select(table.c.at).order_by(table.c.at.desc()).offset(max_points - 1).limit(1)
                )
                cutoff = conn.execute(oldest_kept).scalar()
                if cutoff is not None:
                    conn.execute(table.delete().where(table.c.at < cutoff))

    def equity_series(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[EquityPoint]:
        """The series, oldest first; `start <= at < end` when given."""
        query = select(_EQUITY_TABLE).order_by(_EQUITY_TABLE.c.at)
        if start is not None:
            query = query.where(_EQUITY_TABLE.c.at >= start)
        if end is not None:
            query = query.where(_EQUITY_TABLE.c.at < end)
        with self.engine.connect() as conn:
            return [_equity_point(row) for row in conn.execute(query)]

    def current_equity(self) -> EquityPoint | None:
        """The newest point: the account as the risk job last valued it."""
        query = select(_EQUITY_TABLE).order_by(_EQUITY_TABLE.c.at.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _equity_point(row)

    # --- key/value -----------------------------------------------------------------------------

    # Core statements, not ORM sessions: jobs read these switches and cursors on every run.

    def get_value(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(_KV_SELECT, {"k": key}).scalar()

    def set_value(self, key: str, value: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(_KV_UPDATE, {"k": key, "v": value, "at": at})
            if updated.rowcount == 0:
                conn.execute(_KV_TABLE.insert().values(key=key, value=value, updated_at=at))

    def risk_off(self) -> bool:
        """The manual switch set by `qtbot pause` (the env setting is checked by the caller)."""
        return self.get_value(RISK_OFF_KEY) == "true"

    def set_risk_off(self, on: bool, at: datetime, reason: str) -> None:
        """The manual switch; resuming also restarts the drawdown peak (a deliberate reset)."""
        value = "true" if on else "false"
        with Session(self.engine) as session:
            # Write first, read never: the UPDATE takes SQLite's write lock, so a `pause` and a
            # `resume` racing on a new database cannot both find no row and both insert one.
            conn = session.connection()
            updated = conn.execute(_KV_UPDATE, {"k": RISK_OFF_KEY, "v": value, "at": at})
            if updated.rowcount == 0:
                conn.execute(
                    _KV_TABLE.insert().values(key=RISK_OFF_KEY, value=value, updated_at=at)
                )
            if not on:
                conn.execute(_KV_TABLE.delete().where(_KV_TABLE.c.key == EQUITY_MARKS_KEY))
            session.add(risk_switch_entry(on, at, reason))
            session.commit()


def _equity_point(row: Row[Any]) -> EquityPoint:
    key = f"at={row.at.isoformat()!r}"
    equity = stored_decimal(row.equity, "equity_point", key, "equity")
    cash = None if row.cash is None else stored_decimal(row.cash, "equity_point", key, "cash")
    return EquityPoint(row.at, equity, cash)


# --- row logic shared with the in-memory store (bot.state.memory) ----------------------------


def journal_entry(
    at: datetime, kind: str, message: str, level: str, symbol: str | None, data: dict[str, Any]
) -> JournalEntry:
    return JournalEntry(
        at=at,
        kind=kind,
        level=level,
        symbol=symbol,
        message=message,
        data=json.dumps(data, default=str, sort_keys=True),
    )


def journal_view(row: JournalEntry) -> JournalView:
    return JournalView(
        row.id or 0, row.at, row.kind, row.level, row.symbol, row.message, json.loads(row.data)
    )


def heartbeat_row(
    name: str,
    at: datetime,
    pid: int,
    host: str,
    mode: str,
    exchange: str,
    started_at: datetime,
    stopped: bool,
) -> Heartbeat:
    """The one row per daemon name, rewritten whole on every beat."""
    return Heartbeat(
        name=name,
        at=at,
        pid=pid,
        host=host,
        mode=mode,
        exchange=exchange,
        started_at=started_at,
        stopped_at=at if stopped else None,
    )


def heartbeat_view(row: Heartbeat) -> HeartbeatView:
    return HeartbeatView(
        row.name, row.at, row.pid, row.host, row.mode, row.exchange, row.started_at, row.stopped_at
    )


def risk_switch_entry(on: bool, at: datetime, reason: str) -> JournalEntry:
    return JournalEntry(
        at=at,
        kind="risk_off" if on else "risk_on",
        level="warning" if on else "info",
        message=reason,
        data="{}",
    )
