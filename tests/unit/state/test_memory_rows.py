"""The backtest store's plain rows stand for the table rows: the same fields, in the same order,
with the same types and defaults, and a damaged amount is reported in the same words."""

from __future__ import annotations

import typing
from dataclasses import MISSING, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic_core import PydanticUndefined
from sqlmodel import SQLModel

from bot.state.errors import StoreError
from bot.state.memory_rows import MemoryFillRow, MemoryIntentRow, MemoryMarksRow, MemoryRow
from bot.state.models import FillRow, OrderIntentRow, PositionMarksRow
from bot.state.orders_repo import order_record, position_fill, position_marks
from risk.marks import PositionMarks

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
PAIRS: list[tuple[type[MemoryRow], type[SQLModel]]] = [
    (MemoryIntentRow, OrderIntentRow),
    (MemoryFillRow, FillRow),
    (MemoryMarksRow, PositionMarksRow),
]


def _plain_fields(row_type: type[MemoryRow]) -> list[tuple[str, Any, object]]:
    hints = typing.get_type_hints(row_type)
    return [
        (f.name, hints[f.name], PydanticUndefined if f.default is MISSING else f.default)
        for f in fields(row_type)
    ]


def _table_fields(table: type[SQLModel]) -> list[tuple[str, Any, object]]:
    return [(name, f.annotation, f.default) for name, f in table.model_fields.items()]


@pytest.mark.parametrize(("plain", "table"), PAIRS, ids=lambda t: t.__name__)
def test_a_plain_row_has_the_table_rows_fields(
    plain: type[MemoryRow], table: type[SQLModel]
) -> None:
    assert plain.TABLE is table
    assert _plain_fields(plain) == _table_fields(table)


INTENT: dict[str, Any] = {
    "client_order_id": "qtb-1",
    "cause": "plan:p1|tranche:1",
    "kind": "tranche",
    "symbol": "BTC/USDT",
    "side": "buy",
    "type": "limit",
    "amount": "0.5",
    "status": "open",
    "created_at": NOW,
    "updated_at": NOW,
}
FILL: dict[str, Any] = {
    "trade_id": "t9",
    "symbol": "BTC/USDT",
    "side": "buy",
    "amount": "0.5",
    "price": "90000",
    "fee": "0.1",
    "fee_asset": "USDT",
    "timestamp": NOW,
    "recorded_at": NOW,
}
MARKS: dict[str, Any] = {
    "symbol": "BTC/USDT",
    "cycle_id": "c1",
    "high_water_mark": "95000",
    "updated_at": NOW,
}


def _error(read: Any, row: object) -> str:
    with pytest.raises(StoreError) as caught:
        read(row)
    return str(caught.value)


@pytest.mark.parametrize(
    ("plain", "table", "values", "read"),
    [
        (MemoryIntentRow, OrderIntentRow, INTENT | {"average": "NaN"}, order_record),
        (MemoryFillRow, FillRow, FILL | {"fee": "-Infinity"}, position_fill),
        (MemoryFillRow, FillRow, FILL | {"price": ""}, position_fill),
        (MemoryMarksRow, PositionMarksRow, MARKS | {"trailing_stop": "x"}, position_marks),
    ],
    ids=["intent-average", "fill-fee", "fill-price", "marks-trailing"],
)
def test_a_damaged_amount_reads_as_the_sql_repository_reports_it(
    plain: type[MemoryRow], table: type[SQLModel], values: dict[str, Any], read: Any
) -> None:
    message = _error(read, table(**values))
    assert "the database is damaged" in message
    assert _error(read, plain(**values)) == message


def test_sound_rows_read_alike() -> None:
    assert order_record(MemoryIntentRow(**INTENT)) == order_record(OrderIntentRow(**INTENT))
    assert position_fill(MemoryFillRow(**FILL)) == position_fill(FillRow(**FILL))
    marks = position_marks(MemoryMarksRow(**MARKS))
    assert marks == position_marks(PositionMarksRow(**MARKS))
    assert marks.high_water_mark == Decimal("95000")
    assert marks == PositionMarks("c1", Decimal("95000"), None, None, frozenset())
