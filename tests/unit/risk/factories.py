"""Small builders for risk tests: fills, positions, accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from risk.actions import Action
from risk.limits import AccountState
from risk.position import FillSide, Position, PositionFill, apply_fill

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SYMBOL = "BTC/USDT"


def D(text: str | int) -> Decimal:
    return Decimal(str(text))


def buy(fill_id: str, amount: str, price: str, fee: str = "0", minutes: int = 0) -> PositionFill:
    return PositionFill(
        fill_id, FillSide.BUY, D(amount), D(price), D(fee), T0 + timedelta(minutes=minutes)
    )


def sell(
    fill_id: str,
    amount: str | Decimal,
    price: str | Decimal,
    fee: str = "0",
    minutes: int = 0,
    tier: int | None = None,
) -> PositionFill:
    return PositionFill(
        fill_id,
        FillSide.SELL,
        D(str(amount)),
        D(str(price)),
        D(fee),
        T0 + timedelta(minutes=minutes),
        tier=tier,
    )


def fill_action(
    position: Position, action: Action, fill_id: str, minutes: int = 0, fee: Decimal = Decimal(0)
) -> Position:
    """Apply an engine action as if its order filled completely at the decision price."""
    return apply_fill(
        position,
        PositionFill(
            fill_id,
            FillSide.SELL,
            action.amount,
            action.price,
            fee,
            T0 + timedelta(minutes=minutes),
            tier=action.tier,
            reason=action.reason,
        ),
    )


def account(
    equity: str = "10000", peak: str | None = None, day_start: str | None = None, cash: str = "5000"
) -> AccountState:
    return AccountState(D(equity), D(peak or equity), D(day_start or equity), D(cash))
