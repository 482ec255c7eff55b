"""The order repository's rows as plain objects, for the backtest's in-memory store.

`MemoryOrderRepo` never talks to a database, yet building and changing the SQLModel rows
(every attribute set through SQLAlchemy's instrumentation) cost a tenth of a backtest trial.
These hold the same fields, with the same defaults, as `OrderIntentRow`, `FillRow` and
`PositionMarksRow` (tests/unit/state/test_memory_rows.py compares them), and are built and
changed by the same functions of `bot.state.orders_repo`, so what a row holds is still written
once. `TABLE` names the table model a row stands for: `row_decimal` reports a damaged amount
in it as the SQL repository reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlmodel import SQLModel

from bot.state.models import FillRow, OrderIntentRow, PositionMarksRow

# Not spelled `type[...]` inside the classes: there `type` is also the intent row's field.
TableModel = type[SQLModel]


# Keyword-only, so the fields can keep the table models' order (the test compares it too).
@dataclass(slots=True, eq=False, kw_only=True)
class MemoryIntentRow:
    TABLE: ClassVar[TableModel] = OrderIntentRow

    client_order_id: str
    cause: str
    kind: str
    symbol: str
    side: str
    type: str
    amount: str
    price: str | None = None
    tier: int | None = None
    reason: str = ""
    status: str
    exchange_order_id: str | None = None
    filled: str = "0"
    average: str | None = None
    fee: str = "0"
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    trigger_price: str | None = None
    refusal: str | None = None
    moved_at: datetime | None = None


@dataclass(slots=True, eq=False, kw_only=True)
class MemoryFillRow:
    TABLE: ClassVar[TableModel] = FillRow

    trade_id: str
    symbol: str
    client_order_id: str | None = None
    exchange_order_id: str | None = None
    side: str
    amount: str
    price: str
    fee: str
    fee_asset: str
    is_maker: bool = False
    tier: int | None = None
    kind: str | None = None
    timestamp: datetime
    recorded_at: datetime


@dataclass(slots=True, eq=False, kw_only=True)
class MemoryMarksRow:
    TABLE: ClassVar[TableModel] = PositionMarksRow

    symbol: str
    cycle_id: str
    high_water_mark: str
    trailing_stop: str | None = None
    break_even: str | None = None
    tiers_skipped: str = ""
    updated_at: datetime


MemoryRow = MemoryIntentRow | MemoryFillRow | MemoryMarksRow
