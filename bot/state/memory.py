"""The store's contract kept in process memory, for backtests.

A backtest runs the daemon's jobs hundreds of times a simulated year; through SQLite every run
costs dozens of ORM round trips, most of the replay's time. `MemoryStore` and
`MemoryOrderRepo` answer exactly as `Store` and `OrderRepo` do (plain rows with the table rows'
fields, `bot.state.memory_rows`, built and changed by the same functions: `apply_update`,
`fill_row`, ...; journal lines are kept as the fields `journal_entry` would write, without the
ORM row), so the decision code cannot tell them apart.
tests/unit/test_store_contract.py runs one suite and a differential property test on both;
tests/unit/backtest/test_store_equivalence.py replays two real years through both and compares
the results byte for byte.
Nothing here survives the process: the daemon never uses it.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

from bot.orders.intents import ACTIVE, IntentStatus, OrderIntent, OrderRecord, Refusal
from bot.state.equity_series import DEFAULT_MAX_POINTS, DEFAULT_SPACING, EquityPoint, add_point
from bot.state.errors import StoreError
from bot.state.memory_rows import MemoryFillRow, MemoryIntentRow, MemoryMarksRow
from bot.state.models import Heartbeat, JournalEntry, row_decimal, stored_utc
from bot.state.orders_repo import (
    INTENT_JOURNAL_KIND,
    apply_amend,
    apply_marks,
    apply_update,
    covers,
    fill_row,
    garbled,
    intent_journal_text,
    intent_row,
    marks_differ,
    new_marks_row,
    order_record,
    position_fill,
    position_marks,
    venue_order,
)
from bot.state.runtime_state import EQUITY_MARKS_KEY, RISK_OFF_KEY
from bot.state.store import (
    HeartbeatView,
    JournalView,
    Store,
    heartbeat_row,
    heartbeat_view,
    risk_switch_entry,
)
from exchanges.base import Fill, Order
from risk.marks import PositionMarks
from risk.position import PositionFill

_ACTIVE = frozenset(s.value for s in ACTIVE)


def _intent_order(row: MemoryIntentRow) -> tuple[datetime, str]:
    return (row.created_at, row.client_order_id)


@dataclass(frozen=True, slots=True)
class _JournalLine:
    """A journal line as `JournalEntry` holds it, without the ORM row: a replay writes
    thousands, and building each `JournalEntry` (every attribute set through SQLAlchemy's
    instrumentation) cost more than the rest of journaling. Read back through `view`, it gives
    what `journal_view` gives for the row (tests/unit/backtest/test_memory_journal.py)."""

    id: int
    at: datetime
    kind: str
    level: str
    symbol: str | None
    message: str
    # The JSON text, or (`_plain_data`) the items that text would decode to, sorted.
    data: str | tuple[tuple[str, object], ...]

    @classmethod
    def of(cls, entry: JournalEntry, line_id: int) -> _JournalLine:
        return cls(
            line_id, entry.at, entry.kind, entry.level, entry.symbol, entry.message, entry.data
        )

    def view(self) -> JournalView:
        return JournalView(
            self.id,
            self.at,
            self.kind,
            self.level,
            self.symbol,
            self.message,
            json.loads(self.data) if isinstance(self.data, str) else dict(self.data),
        )


# The value types whose JSON text (`json.dumps(..., default=str)`) decodes to an equal value of
# the same type; a Decimal is written as its `str` and so read back.
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _plain_data(data: dict[str, Any]) -> tuple[tuple[str, object], ...] | None:
    """`json.loads(json.dumps(data, default=str, sort_keys=True))` as sorted items, when that
    needs no JSON (nearly every line: texts and counts); None for anything else (lists...).
    A replay journals about a thousand lines a trial, and the encoding and decoding of each
    line's data cost about 1 % of the trial."""
    for value in data.values():
        kind = type(value)
        if kind not in _PLAIN_TYPES and kind is not Decimal:
            return None
    return tuple(sorted((k, str(v) if type(v) is Decimal else v) for k, v in data.items()))


class MemoryStore(Store):
    """`Store` without a database: key/value state, the journal and heartbeats in dicts."""

    def __init__(self) -> None:
        self._kv: dict[str, str] = {}
        self._journal: list[_JournalLine] = []
        self._beats: dict[str, Heartbeat] = {}
        self._orders = MemoryOrderRepo(self)
        self._equity: list[EquityPoint] = []

    @property
    def engine(self) -> NoReturn:  # type: ignore[override]
        raise StoreError("the in-memory backtest store has no database engine")

    def close(self) -> None:
        return None

    def integrity_ok(self) -> bool:
        return True

    def order_repo(self) -> MemoryOrderRepo:  # type: ignore[override]
        return self._orders

    def record_equity(
        self,
        now: datetime,
        equity: Decimal,
        cash: Decimal | None = None,
        spacing: timedelta = DEFAULT_SPACING,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        point = EquityPoint(stored_utc(now), equity, cash)
        add_point(self._equity, point, spacing, max_points)

    def equity_series(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[EquityPoint]:
        return [
            p
            for p in self._equity
            if (start is None or p.at >= start) and (end is None or p.at < end)
        ]

    def current_equity(self) -> EquityPoint | None:
        return self._equity[-1] if self._equity else None

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
        at, started_at = stored_utc(at), stored_utc(started_at)
        self._beats[name] = heartbeat_row(name, at, pid, host, mode, exchange, started_at, stopped)

    def heartbeat(self, name: str = "daemon") -> HeartbeatView | None:
        row = self._beats.get(name)
        return None if row is None else heartbeat_view(row)

    def add_journal(self, entry: JournalEntry) -> int:
        entry.at = stored_utc(entry.at)
        entry.id = len(self._journal) + 1
        self._journal.append(_JournalLine.of(entry, entry.id))
        return entry.id

    def add_line(self, at: datetime, kind: str, symbol: str | None, message: str, data: str) -> int:
        """`add_journal` of an "info" `JournalEntry` with these fields, without building it."""
        at = stored_utc(at)
        line = _JournalLine(len(self._journal) + 1, at, kind, "info", symbol, message, data)
        self._journal.append(line)
        return line.id

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
        # What `journal_entry` would build, in the same order: the data serialized, then the
        # time checked and kept in UTC. Plain data cannot fail to serialize: it is kept as the
        # items its text would decode to.
        plain = _plain_data(data)
        text = json.dumps(data, default=str, sort_keys=True) if plain is None else plain
        line = _JournalLine(
            len(self._journal) + 1, stored_utc(at), kind, level, symbol, message, text
        )
        self._journal.append(line)
        return line.id

    def recent_journal(self, limit: int = 20, kind: str | None = None) -> list[JournalView]:
        if limit < 0:
            limit = len(self._journal)  # SQLite reads LIMIT -1 as no limit
        found: list[JournalView] = []
        for entry in reversed(self._journal):
            if len(found) >= limit:
                break
            if kind is None or entry.kind == kind:
                found.append(entry.view())
        return found

    def get_value(self, key: str) -> str | None:
        return self._kv.get(key)

    def writes(self) -> tuple[int, int, dict[str, str]]:
        """What has been written so far: journal lines, order intents and fills, and the
        key/value state (a copy). Equal before and after a job run (and the position marks,
        read apart) = the run changed none of it (the backtest's replay skips quiet runs on
        that evidence)."""
        return len(self._journal), self._orders.writes, dict(self._kv)

    def set_value(self, key: str, value: str, at: datetime) -> None:
        stored_utc(at)
        self._kv[key] = value

    def set_risk_off(self, on: bool, at: datetime, reason: str) -> None:
        entry = risk_switch_entry(on, at, reason)
        self.set_value(  # refuses a naive `at` before anything changes
            RISK_OFF_KEY, "true" if on else "false", at
        )
        if not on:
            self._kv.pop(EQUITY_MARKS_KEY, None)
        self.add_journal(entry)


class MemoryOrderRepo:
    """`OrderRepo` over rows held in dicts; the journal lines go to the owning `MemoryStore`.

    The jobs ask the same questions thousands of times a replay (orders of a cause, active
    orders, a symbol's fills), so the answers are kept as built records, indexed, and rebuilt
    only for the rows a write changed: the same records, in the same order, as a scan would
    give (tests/unit/test_store_contract.py)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._intents: dict[str, MemoryIntentRow] = {}
        self._fills: dict[tuple[str, str], MemoryFillRow] = {}
        self._marks: dict[str, MemoryMarksRow] = {}
        # Records by client id, in (created_at, client id) order; indexes of client ids.
        self._records: dict[str, OrderRecord] = {}
        self._order: list[tuple[datetime, str]] = []
        self._by_cause: dict[str, list[tuple[datetime, str]]] = {}
        self._by_symbol: dict[str, set[str]] = {}
        self._active: set[str] = set()
        self._fills_by_symbol: dict[str, list[MemoryFillRow]] = {}
        self._position_fills: dict[str, list[PositionFill]] = {}
        self._position_keys: dict[str, list[tuple[datetime, int, str]]] = {}
        self._filled_by_id: dict[str, list[MemoryFillRow]] = {}
        self._marks_view: dict[str, PositionMarks] | None = None
        self.writes = 0  # intents inserted or changed, fills recorded (marks apart: `marks`)

    # --- intents ---------------------------------------------------------------------------

    def _keep(self, row: MemoryIntentRow) -> OrderRecord:
        """Build the row's record once per write and keep the status index current."""
        self.writes += 1
        record = order_record(row)
        self._records[row.client_order_id] = record
        if row.status in _ACTIVE:
            self._active.add(row.client_order_id)
        else:
            self._active.discard(row.client_order_id)
        return record

    def insert_intent(
        self, client_order_id: str, intent: OrderIntent, now: datetime
    ) -> OrderRecord:
        if client_order_id in self._intents:
            raise StoreError(f"order intent {client_order_id} is already recorded")
        row = intent_row(MemoryIntentRow, client_order_id, intent, stored_utc(now))
        message, data = intent_journal_text(client_order_id, intent)
        self._store.add_line(now, INTENT_JOURNAL_KIND, intent.symbol, message, data)
        self._intents[client_order_id] = row
        key = _intent_order(row)
        bisect.insort(self._order, key)
        bisect.insort(self._by_cause.setdefault(row.cause, []), key)
        self._by_symbol.setdefault(row.symbol, set()).add(client_order_id)
        return self._keep(row)

    def get(self, client_order_id: str) -> OrderRecord | None:
        return self._records.get(client_order_id)

    def by_cause(self, cause: str) -> list[OrderRecord]:
        return [self._records[cid] for _, cid in self._by_cause.get(cause, ())]

    def active(self) -> list[OrderRecord]:
        if not self._active:
            return []
        rows = [self._intents[cid] for cid in self._active]
        return [self._records[r.client_order_id] for r in sorted(rows, key=_intent_order)]

    def all(self, symbol: str | None = None) -> list[OrderRecord]:
        records = (self._records[cid] for _, cid in self._order)
        return [r for r in records if not symbol or r.symbol == symbol]

    def client_ids(self, symbol: str) -> AbstractSet[str]:
        # Read-only to the caller (the fill sync asks on every run), so no copy.
        return self._by_symbol.get(symbol, frozenset())

    def symbols(self) -> list[str]:
        return sorted(s for s, ids in self._by_symbol.items() if ids)

    def _row(self, client_order_id: str) -> MemoryIntentRow:
        row = self._intents.get(client_order_id)
        if row is None:
            raise KeyError(client_order_id)
        return row

    def update(
        self,
        client_order_id: str,
        now: datetime,
        status: IntentStatus,
        *,
        order: Order | None = None,
        error: str | None = None,
        sent: bool = False,
        refusal: Refusal | None = None,
    ) -> OrderRecord:
        row = self._row(client_order_id)
        apply_update(
            row, stored_utc(now), status, order=order, error=error, sent=sent, refusal=refusal
        )
        return self._keep(row)

    def amend(self, client_order_id: str, now: datetime, intent: OrderIntent) -> OrderRecord:
        row = self._row(client_order_id)
        apply_amend(row, stored_utc(now), intent)
        return self._keep(row)

    # --- fills -----------------------------------------------------------------------------

    def record_fills(self, fills: Iterable[Fill], now: datetime) -> list[Fill]:
        # All or nothing, like the SQL repository's one transaction: rows are built (and their
        # times checked) before any is kept.
        new: list[Fill] = []
        rows: dict[tuple[str, str], MemoryFillRow] = {}
        for fill in fills:
            key = (fill.trade_id, fill.symbol)
            if key in self._fills or key in rows or garbled(fill):
                continue
            intent = self._intents.get(fill.client_order_id) if fill.client_order_id else None
            row = fill_row(MemoryFillRow, fill, intent, stored_utc(now))
            row.timestamp = stored_utc(row.timestamp)
            rows[key] = row
            new.append(fill)
        self._fills.update(rows)
        self.writes += len(rows)
        for row in rows.values():
            self._fills_by_symbol.setdefault(row.symbol, []).append(row)
            built = self._position_fills.get(row.symbol)
            if built is not None:  # keep the built list in venue order: insert, not rebuild
                keys = self._position_keys[row.symbol]
                at = bisect.bisect_right(keys, venue_order(row))
                keys.insert(at, venue_order(row))
                built.insert(at, position_fill(row))
            if row.client_order_id:
                self._filled_by_id.setdefault(row.client_order_id, []).append(row)
        return new

    def fills_recorded(self, records: list[OrderRecord]) -> bool:
        reported = {r.client_order_id: r.filled for r in records if r.filled > 0}
        if not reported:
            return True
        rows = [
            (cid, row_decimal(r, "amount"))
            for cid in reported
            for r in self._filled_by_id.get(cid, ())
        ]
        return covers(reported, rows)

    def fill_count(self) -> int:
        return len(self._fills)

    def position_fills(self, symbol: str) -> list[PositionFill]:
        built = self._position_fills.get(symbol)
        if built is None:
            rows = sorted(self._fills_by_symbol.get(symbol, ()), key=venue_order)
            self._position_keys[symbol] = [venue_order(r) for r in rows]
            built = self._position_fills[symbol] = [position_fill(r) for r in rows]
        return list(built)

    def fill_symbols(self) -> list[str]:
        return sorted(self._fills_by_symbol)

    # --- position marks ----------------------------------------------------------------------

    def marks(self) -> dict[str, PositionMarks]:
        if self._marks_view is None:
            self._marks_view = {
                symbol: position_marks(self._marks[symbol]) for symbol in sorted(self._marks)
            }
        return dict(self._marks_view)

    def save_marks(self, marks: dict[str, PositionMarks], now: datetime) -> None:
        rows = {
            symbol: self._marks.get(symbol) or new_marks_row(MemoryMarksRow, symbol, mark, now)
            for symbol, mark in marks.items()
        }
        changed = {
            symbol: mark for symbol, mark in marks.items() if marks_differ(rows[symbol], mark)
        }
        if not changed:
            return  # nothing written, so (as in SQL) nothing to check `now` against
        now = stored_utc(now)
        self._marks_view = None
        for symbol, mark in changed.items():
            apply_marks(rows[symbol], mark, now)
            self._marks[symbol] = rows[symbol]
