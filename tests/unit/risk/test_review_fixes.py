"""Two rules found loose in review: the break-even setting off means no break-even stop, even
with a level stored while it was on; a lot step alone is a minimum sale of one lot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from risk.actions import ActionKind
from risk.engine import evaluate_position
from risk.marks import PositionMarks
from risk.minimums import SaleMinimum
from risk.params import RiskParams
from risk.position import FillSide, PositionFill, position_from_fills

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _position():  # type: ignore[no-untyped-def]
    fills = [
        PositionFill("b1", FillSide.BUY, Decimal(1), Decimal(100), Decimal("0.1"), T0),
        PositionFill(
            "s1", FillSide.SELL, Decimal("0.25"), Decimal(120), Decimal("0.03"), T0, tier=1
        ),
    ]
    return position_from_fills("BTC/USDT", fills)


def test_break_even_turned_off_ignores_a_stored_level() -> None:
    position = _position()
    stored = PositionMarks(position.cycle_id or "", Decimal(120), None, Decimal("100.17"))
    off = RiskParams(breakeven_after_first_tier=False, trailing_stop_pct=None)
    on = RiskParams(breakeven_after_first_tier=True, trailing_stop_pct=None)
    assert evaluate_position(position, stored, Decimal("100.1"), off).actions == []
    (sale,) = evaluate_position(position, stored, Decimal("100.1"), on).actions
    assert sale.kind is ActionKind.STOP_LOSS and sale.trigger_price == Decimal("100.17")


def test_a_lot_step_alone_makes_the_smallest_sale_one_lot() -> None:
    assert SaleMinimum(step=Decimal("0.001")).at(Decimal(50000)) == Decimal("0.001")
    assert SaleMinimum().at(Decimal(50000)) == 0
    assert SaleMinimum(Decimal("0.0015"), step=Decimal("0.001")).at(Decimal(1)) == Decimal("0.002")
