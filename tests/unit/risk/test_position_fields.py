"""`apply_fill` builds the next `Position` field by field (cheaper than dataclasses.replace):
every field must come through a buy and a sell exactly as replace would carry it."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields, replace
from datetime import UTC, datetime
from decimal import Decimal

import risk.position as position_module
from risk.position import FillSide, Position, PositionFill, apply_fill

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(
    fill_id: str, side: FillSide, amount: str, price: str, tier: int | None = None
) -> PositionFill:
    return PositionFill(fill_id, side, Decimal(amount), Decimal(price), Decimal("0.1"), T0, tier)


def test_every_position_field_is_named_by_each_constructor() -> None:
    names = {f.name for f in fields(Position)}
    tree = ast.parse(inspect.getsource(position_module))
    built = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Position"
        and len(node.keywords) > 1
    ]
    assert len(built) == 3  # a new cycle's buy, a buy into it, a sell
    for call in built:
        assert {k.arg for k in call.keywords} == names


def test_fields_not_changed_by_a_fill_are_carried() -> None:
    opened = apply_fill(Position("BTC/USDT"), _fill("b1", FillSide.BUY, "2", "100"))
    base = replace(opened, opened_at=datetime(2023, 12, 31, tzinfo=UTC), tiers_taken=frozenset({7}))
    bought = apply_fill(base, _fill("b2", FillSide.BUY, "1", "130"))
    assert bought == replace(
        base,
        size=Decimal(3),
        avg_entry_price=Decimal(330) / Decimal(3),
        fees=Decimal("0.2"),
        cycle_bought=Decimal(3),
        peak_fill_price=Decimal(130),
        fill_ids=frozenset({"b1", "b2"}),
    )
    sold = apply_fill(bought, _fill("s1", FillSide.SELL, "1", "150", tier=1))
    assert sold == replace(
        bought,
        size=Decimal(2),
        fees=Decimal("0.3"),
        realized_pnl=(Decimal(150) - bought.avg_entry_price),
        cycle_sold=Decimal(1),
        tiers_taken=frozenset({1, 7}),
        peak_fill_price=Decimal(150),
        fill_ids=frozenset({"b1", "b2", "s1"}),
    )
