"""Reading one ccxt trade or order row: what cannot be read is refused as `MalformedReply`
(an `ExchangeError` the adapter skips per row), never a bare ValueError, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from exchanges.base import Side
from exchanges.ccxt.parse import to_fill, to_order
from exchanges.errors import MalformedReply
from tests.unit.exchanges.paper_kit import BTC_USDT

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TRADE: dict[str, Any] = {
    "id": "77",
    "order": "12",
    "side": "buy",
    "amount": 0.01,
    "price": 50000.0,
    "timestamp": 1_767_225_600_000,
    "fee": {"cost": 0.00001, "currency": "BTC"},
    "takerOrMaker": "taker",
}
_DROP = object()


def _trade(**changes: Any) -> dict[str, Any]:
    row = {**TRADE, **changes}
    return {k: v for k, v in row.items() if v is not _DROP}


def test_a_whole_trade_row_becomes_a_fill() -> None:
    fill = to_fill(TRADE, client_order_id="qtbot-1", market=BTC_USDT)
    assert (fill.trade_id, fill.exchange_order_id, fill.side) == ("77", "12", Side.BUY)
    assert (fill.amount, fill.price, fill.fee) == (Decimal("0.01"), 50000, Decimal("0.00001"))
    assert fill.timestamp == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        pytest.param({"amount": _DROP}, "amount", id="amount_missing"),
        pytest.param({"amount": None}, "amount", id="amount_null"),
        pytest.param({"amount": 0.0}, "amount", id="amount_zero"),
        pytest.param({"amount": float("nan")}, "amount", id="amount_nan"),
        pytest.param({"amount": "NaN"}, "amount", id="amount_nan_text"),
        pytest.param({"amount": float("inf")}, "amount", id="amount_infinite"),
        pytest.param({"amount": -0.01}, "amount", id="amount_negative"),
        pytest.param({"price": _DROP}, "price", id="price_missing"),
        pytest.param({"price": "abc"}, "price", id="price_garbage"),
        pytest.param({"price": -1.0}, "price", id="price_negative"),
        pytest.param({"timestamp": _DROP}, "timestamp", id="timestamp_missing"),
        pytest.param({"timestamp": "soon"}, "timestamp", id="timestamp_garbage"),
        pytest.param({"timestamp": 10**30}, "timestamp", id="timestamp_out_of_range"),
        pytest.param({"side": _DROP}, "side", id="side_missing"),
        pytest.param({"side": "short"}, "side", id="side_unknown"),
        pytest.param({"id": _DROP}, "without an id", id="id_missing"),
    ],
)
def test_an_unreadable_trade_row_is_refused_with_the_reason(
    changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(MalformedReply, match=says):
        to_fill(_trade(**changes), client_order_id=None, market=BTC_USDT)


def test_an_unreadable_fee_keeps_the_fill() -> None:
    fill = to_fill(_trade(fee={"cost": "n/a"}), client_order_id=None, market=BTC_USDT)
    assert fill.amount == Decimal("0.01") and fill.fee == 0


ORDER: dict[str, Any] = {
    "id": "12",
    "status": "closed",
    "type": "market",
    "side": "buy",
    "amount": 0.01,
    "filled": 0.01,
    "average": 50000.0,
    "timestamp": 1_767_225_600_000,
}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        pytest.param({"side": None}, "side", id="side_missing"),
        pytest.param({"side": "short"}, "side", id="side_unknown"),
        pytest.param({"filled": float("nan")}, "filled", id="filled_nan"),
        pytest.param({"amount": -1.0}, "amount", id="amount_negative"),
        pytest.param({"average": "x"}, "average", id="average_garbage"),
        pytest.param({"timestamp": "yesterday"}, "timestamp", id="timestamp_garbage"),
        pytest.param({"status": None}, "status", id="status_missing"),
    ],
)
def test_an_unreadable_order_reply_is_refused_not_a_value_error(
    changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(MalformedReply, match=says):
        to_order({**ORDER, **changes}, client_order_id="qtbot-1", market=BTC_USDT, now=NOW)
