"""Order intents, fills and position marks in the store, mapped to domain types."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.orders.intents import (
    ACTIVE,
    IntentStatus,
    OrderIntent,
    OrderRecord,
    Refusal,
    transition,
)
from bot.state.memory_rows import MemoryFillRow, MemoryIntentRow, MemoryMarksRow
from bot.state.models import (
    FillRow,
    JournalEntry,
    OrderIntentRow,
    PositionMarksRow,
    row_decimal,
    row_decimal_or_none,
    stored_decimal,
    text_or_none,
)
from exchanges.base import Fill, Order, OrderType, Side
from risk.marks import PositionMarks
from risk.position import FillSide, PositionFill

# Either kind of row: the SQL repository's table rows or the in-memory store's plain ones
# (`bot.state.memory_rows`); the functions below build, change and read both.
IntentRow = OrderIntentRow | MemoryIntentRow
StoredFill = FillRow | MemoryFillRow
MarksRow = PositionMarksRow | MemoryMarksRow
IntentT = TypeVar("IntentT", OrderIntentRow, MemoryIntentRow)
FillT = TypeVar("FillT", FillRow, MemoryFillRow)
MarksT = TypeVar("MarksT", PositionMarksRow, MemoryMarksRow)


def order_record(row: IntentRow) -> OrderRecord:
    return OrderRecord(
        client_order_id=row.client_order_id,
        cause=row.cause,
        kind=row.kind,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        amount=row_decimal(row, "amount"),
        price=row_decimal_or_none(row, "price"),
        tier=row.tier,
        reason=row.reason,
        status=IntentStatus(row.status),
        exchange_order_id=row.exchange_order_id,
        filled=row_decimal(row, "filled"),
        average=row_decimal_or_none(row, "average"),
        fee=row_decimal(row, "fee"),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        trigger_price=row_decimal_or_none(row, "trigger_price"),
        refusal=_refusal(row),
        moved_at=row.moved_at,
    )


def _refusal(row: IntentRow) -> Refusal | None:
    """A rejected row's refusal class; rows refused before schema v9 (NULL) count as final."""
    if row.status != IntentStatus.REJECTED.value:
        return None
    known = {r.value for r in Refusal}
    return Refusal(row.refusal) if row.refusal in known else Refusal.FINAL


class OrderRepo:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- intents ---------------------------------------------------------------------------

    def insert_intent(
        self, client_order_id: str, intent: OrderIntent, now: datetime
    ) -> OrderRecord:
        """Record the intent (status pending) and its journal line in one transaction."""
        row = intent_row(OrderIntentRow, client_order_id, intent, now)
        with Session(self.engine) as session:
            session.add(row)
            session.add(intent_journal_entry(client_order_id, intent, now))
            session.commit()
            session.refresh(row)
            return order_record(row)

    def get(self, client_order_id: str) -> OrderRecord | None:
        with Session(self.engine) as session:
            row = session.get(OrderIntentRow, client_order_id)
            return order_record(row) if row else None

    def by_cause(self, cause: str) -> list[OrderRecord]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(OrderIntentRow)
                .where(OrderIntentRow.cause == cause)
                .order_by(col(OrderIntentRow.created_at), col(OrderIntentRow.client_order_id))
            ).all()
            return [order_record(r) for r in rows]

    def active(self) -> list[OrderRecord]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(OrderIntentRow)
                .where(col(OrderIntentRow.status).in_([s.value for s in ACTIVE]))
                .order_by(col(OrderIntentRow.created_at), col(OrderIntentRow.client_order_id))
            ).all()
            return [order_record(r) for r in rows]

    def all(self, symbol: str | None = None) -> list[OrderRecord]:
        with Session(self.engine) as session:
            query = select(OrderIntentRow).order_by(
                col(OrderIntentRow.created_at), col(OrderIntentRow.client_order_id)
            )
            if symbol:
                query = query.where(OrderIntentRow.symbol == symbol)
            return [order_record(r) for r in session.exec(query).all()]

    def client_ids(self, symbol: str) -> AbstractSet[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OrderIntentRow.client_order_id).where(OrderIntentRow.symbol == symbol)
            )
            return {row[0] for row in rows}

    def symbols(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(set(session.exec(select(OrderIntentRow.symbol)).all()))

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
        """Move an intent to `status` (checked against the transition table); `refusal` says
        why a `rejected` one was refused (default: final)."""
        with Session(self.engine) as session:
            row = session.get(OrderIntentRow, client_order_id)
            if row is None:
                raise KeyError(client_order_id)
            apply_update(row, now, status, order=order, error=error, sent=sent, refusal=refusal)
            session.add(row)
            session.commit()
            session.refresh(row)
            return order_record(row)

    def amend(self, client_order_id: str, now: datetime, intent: OrderIntent) -> OrderRecord:
        """The venue changed a resting order in place: store its new amount and prices."""
        with Session(self.engine) as session:
            row = session.get(OrderIntentRow, client_order_id)
            if row is None:
                raise KeyError(client_order_id)
            apply_amend(row, now, intent)
            session.add(row)
            session.commit()
            session.refresh(row)
            return order_record(row)

    # --- fills -----------------------------------------------------------------------------

    def record_fills(self, fills: Iterable[Fill], now: datetime) -> list[Fill]:
        """Insert fills not seen before (by venue trade id); returns the new ones."""
        new: list[Fill] = []
        fills = list(fills)
        if not fills:
            return new
        with Session(self.engine) as session:
            known = set(
                session.exec(
                    select(FillRow.trade_id, FillRow.symbol).where(
                        col(FillRow.trade_id).in_([f.trade_id for f in fills])
                    )
                ).all()
            )
            for fill in fills:
                if (fill.trade_id, fill.symbol) in known:
                    continue
                if garbled(fill):
                    continue
                known.add((fill.trade_id, fill.symbol))
                intent = (
                    session.get(OrderIntentRow, fill.client_order_id)
                    if fill.client_order_id
                    else None
                )
                session.add(fill_row(FillRow, fill, intent, now))
                new.append(fill)
            session.commit()
        return new

    def fills_recorded(self, records: list[OrderRecord]) -> bool:
        """Whether every fill the venue reported for these orders is in the fill table."""
        reported = {r.client_order_id: r.filled for r in records if r.filled > 0}
        if not reported:
            return True
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    FillRow.trade_id, FillRow.symbol, FillRow.client_order_id, FillRow.amount
                ).where(col(FillRow.client_order_id).in_(list(reported)))
            ).all()
        return covers(
            reported,
            [
                (cid, stored_decimal(amount, "fill", f"trade_id={tid!r}, symbol={sym!r}", "amount"))
                for tid, sym, cid, amount in rows
            ],
        )

    def fill_count(self) -> int:
        with Session(self.engine) as session:
            return len(session.exec(select(FillRow.trade_id)).all())

    def position_fills(self, symbol: str) -> list[PositionFill]:
        """The symbol's fills as the risk rules see them, in venue time order."""
        with Session(self.engine) as session:
            rows = session.exec(select(FillRow).where(FillRow.symbol == symbol)).all()
            return [position_fill(r) for r in sorted(rows, key=venue_order)]

    def fill_symbols(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(set(session.exec(select(FillRow.symbol)).all()))

    # --- position marks ----------------------------------------------------------------------

    def marks(self) -> dict[str, PositionMarks]:
        with Session(self.engine) as session:
            rows = session.exec(select(PositionMarksRow).order_by(col(PositionMarksRow.symbol)))
            return {r.symbol: position_marks(r) for r in rows}

    def save_marks(self, marks: dict[str, PositionMarks], now: datetime) -> None:
        with Session(self.engine) as session:
            for symbol, mark in marks.items():
                row = session.get(PositionMarksRow, symbol) or new_marks_row(
                    PositionMarksRow, symbol, mark, now
                )
                if apply_marks(row, mark, now):
                    session.add(row)
            session.commit()


def position_fill(row: StoredFill) -> PositionFill:
    """A stored fill for the risk rules: fees in quote, amounts net of fees taken in base.

    Venues that charge a buy's fee in the base asset deliver less than the traded amount; the
    position must hold what the account holds, or its exits would oversell.
    """
    amount, price, fee = (row_decimal(row, c) for c in ("amount", "price", "fee"))
    base = row.symbol.partition("/")[0]
    if row.fee_asset == base:
        if row.side == "buy":
            amount -= fee
        fee = fee * price
    return PositionFill(
        fill_id=row.trade_id,
        side=FillSide(row.side),
        amount=amount,
        price=price,
        fee=fee,
        timestamp=row.timestamp,
        tier=row.tier if row.side == "sell" else None,
        reason=row.kind,
    )


# --- row logic shared with the in-memory repository (bot.state.memory) ------------------------


def intent_row(
    row_type: type[IntentT], client_order_id: str, intent: OrderIntent, now: datetime
) -> IntentT:
    return row_type(
        client_order_id=client_order_id,
        cause=intent.cause,
        kind=intent.kind,
        symbol=intent.symbol,
        side=intent.side.value,
        type=intent.type.value,
        amount=str(intent.amount),
        price=None if intent.price is None else str(intent.price),
        tier=intent.tier,
        reason=intent.reason,
        trigger_price=text_or_none(intent.trigger_price),
        status=IntentStatus.PENDING.value,
        created_at=now,
        updated_at=now,
    )


def intent_journal_entry(client_order_id: str, intent: OrderIntent, now: datetime) -> JournalEntry:
    message, data = intent_journal_text(client_order_id, intent)
    return JournalEntry(
        at=now, kind=INTENT_JOURNAL_KIND, symbol=intent.symbol, message=message, data=data
    )


INTENT_JOURNAL_KIND = "order_intent"


def intent_journal_text(client_order_id: str, intent: OrderIntent) -> tuple[str, str]:
    """The message and data (JSON text) of the journal line recording an order intent."""
    return (
        f"{intent.side} {intent.amount} {intent.symbol} ({intent.kind}): {intent.reason}",
        f'{{"client_order_id": "{client_order_id}"}}',
    )


def apply_update(
    row: IntentRow,
    now: datetime,
    status: IntentStatus,
    *,
    order: Order | None,
    error: str | None,
    sent: bool,
    refusal: Refusal | None = None,
) -> None:
    """Move `row` to `status`. Everything that can raise (the transition check, comparing a
    garbled amount) runs before the row changes, so a refused update leaves it as it was in
    memory too, not only in a rolled-back transaction. A move to `rejected` records its
    refusal class (FINAL unless said otherwise)."""
    new_status = transition(IntentStatus(row.status), status).value
    if status is IntentStatus.REJECTED and row.status != new_status:
        row.refusal = (refusal or Refusal.FINAL).value
    # Filled amounts only grow: a stale venue report must not shrink them.
    filled = None if order is None else str(max(row_decimal(row, "filled"), order.filled))
    row.status = new_status
    if order is not None and filled is not None:
        row.exchange_order_id = order.exchange_order_id or row.exchange_order_id
        row.filled = filled
        row.average = None if order.average is None else str(order.average)
        row.fee = str(order.fee)
    if error is not None:
        row.last_error = error
    if sent:
        row.attempts += 1
    row.updated_at = now


def apply_amend(row: IntentRow, now: datetime, intent: OrderIntent) -> None:
    row.amount = str(intent.amount)
    row.price = text_or_none(intent.price)
    row.trigger_price = text_or_none(intent.trigger_price)
    row.reason = intent.reason
    row.updated_at = now
    row.moved_at = now


def garbled(fill: Fill) -> bool:
    """A report without a positive amount and price; recording it would hide the real trade."""
    return fill.amount <= 0 or fill.price <= 0


def fill_row(row_type: type[FillT], fill: Fill, intent: IntentRow | None, now: datetime) -> FillT:
    return row_type(
        trade_id=fill.trade_id,
        symbol=fill.symbol,
        client_order_id=fill.client_order_id,
        exchange_order_id=fill.exchange_order_id,
        side=fill.side.value,
        amount=str(fill.amount),
        price=str(fill.price),
        fee=str(fill.fee),
        fee_asset=fill.fee_asset,
        is_maker=fill.is_maker,
        tier=intent.tier if intent else None,
        kind=intent.kind if intent else None,
        timestamp=fill.timestamp,
        recorded_at=now,
    )


def covers(
    reported: dict[str, Decimal], recorded_rows: Iterable[tuple[str | None, Decimal]]
) -> bool:
    """Whether the recorded fill amounts reach what the venue reported for each order."""
    recorded: dict[str, Decimal] = {}
    for client_order_id, amount in recorded_rows:
        if client_order_id is not None:
            recorded[client_order_id] = recorded.get(client_order_id, Decimal(0)) + amount
    return all(recorded.get(cid, Decimal(0)) >= filled for cid, filled in reported.items())


def venue_order(row: StoredFill) -> tuple[datetime, int, str]:
    """Same-millisecond fills keep the venue's order: trade ids grow, but as text "t10" < "t9",
    so compare by length first."""
    return (row.timestamp, len(row.trade_id), row.trade_id)


def position_marks(row: MarksRow) -> PositionMarks:
    return PositionMarks(
        row.cycle_id,
        row_decimal(row, "high_water_mark"),
        row_decimal_or_none(row, "trailing_stop"),
        row_decimal_or_none(row, "break_even"),
        frozenset(int(tier) for tier in row.tiers_skipped.split(",") if tier),
    )


def _tiers_text(tiers: frozenset[int]) -> str:
    return ",".join(str(tier) for tier in sorted(tiers))


def marks_differ(row: MarksRow, mark: PositionMarks) -> bool:
    return (
        row.cycle_id != mark.cycle_id
        or row.high_water_mark != str(mark.high_water_mark)
        or row.trailing_stop != text_or_none(mark.trailing_stop)
        or row.break_even != text_or_none(mark.break_even)
        or row.tiers_skipped != _tiers_text(mark.tiers_skipped)
    )


def new_marks_row(
    row_type: type[MarksT], symbol: str, mark: PositionMarks, now: datetime
) -> MarksT:
    """A symbol's first marks row, before `apply_marks` fills it in."""
    return row_type(symbol=symbol, cycle_id=mark.cycle_id, high_water_mark="0", updated_at=now)


def apply_marks(row: MarksRow, mark: PositionMarks, now: datetime) -> bool:
    """Write `mark` into `row`; False (row untouched) when nothing changed."""
    changed = marks_differ(row, mark)
    if changed:
        row.cycle_id = mark.cycle_id
        row.high_water_mark = str(mark.high_water_mark)
        row.trailing_stop = text_or_none(mark.trailing_stop)
        row.break_even = text_or_none(mark.break_even)
        row.tiers_skipped = _tiers_text(mark.tiers_skipped)
        row.updated_at = now
    return changed
