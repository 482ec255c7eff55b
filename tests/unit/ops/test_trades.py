"""Closed round trips from stored fills: reasons, dust, base fees, fills no intent explains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.ops.trades import closed_trades, exit_label, trade_dict
from bot.orders.intents import IntentStatus, OrderIntent
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from exchanges.base import Fill, OrderType, Side

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'bot.sqlite'}")


def record(
    store: Store,
    n: int,
    side: Side,
    amount: str,
    price: str,
    *,
    kind: str | None,
    tier: int | None = None,
    reason: str = "",
    fee: str = "0",
    fee_asset: str = "USDT",
    symbol: str = "BTC/USDT",
) -> None:
    """A filled order (its intent first, as the order manager records it) or, with `kind`
    None, a fill no intent of ours explains (a sale made by hand on the venue)."""
    at = T0 + timedelta(hours=n)
    cid = None
    if kind is not None:
        cid = f"cid-{n}"
        intent = OrderIntent(
            cause=f"c|{n}",
            kind=kind,
            symbol=symbol,
            side=side,
            type=OrderType.MARKET,
            amount=Decimal(amount),
            reason=reason,
            tier=tier,
        )
        store.order_repo().insert_intent(cid, intent, at)
    fill = Fill(
        trade_id=f"t{n}",
        client_order_id=cid,
        exchange_order_id=None,
        symbol=symbol,
        side=side,
        amount=Decimal(amount),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_asset=fee_asset,
        timestamp=at,
        is_maker=False,
    )
    store.order_repo().record_fills([fill], at)
    if cid is not None:
        store.order_repo().update(cid, at, IntentStatus.CLOSED, sent=True)


@pytest.mark.parametrize(
    ("kind", "tier", "reason", "label"),
    [
        pytest.param("take_profit", 2, "tier 2 at +50 %", "tier 2", id="tier"),
        pytest.param("trailing_stop", None, "trailing stop: ...", "trailing", id="trailing"),
        pytest.param("stop_loss", None, "stop loss: price 90 <= 95", "hard stop", id="hard"),
        pytest.param(
            "stop_loss", None, "break-even stop: price 101 <= 101.2", "break-even", id="be"
        ),
        pytest.param("exchange_stop", None, "exchange stop: ...", "exchange stop", id="venue"),
        pytest.param("flatten", None, "kill switch: ...", "kill switch", id="flatten"),
        pytest.param("panic", None, "panic: sell everything", "panic", id="panic"),
        pytest.param(None, None, "", "manual", id="no_intent"),
    ],
)
def test_the_closing_sale_names_the_reason(
    store: Store, kind: str | None, tier: int | None, reason: str, label: str
) -> None:
    record(store, 1, Side.BUY, "1", "100", kind="tranche")
    record(store, 2, Side.SELL, "1", "110", kind=kind, tier=tier, reason=reason)
    assert exit_label(kind, tier, reason) == label
    (trade,) = closed_trades(store)
    assert (trade.reason, trade.exits) == (label, (label,))


def test_an_open_cycle_is_no_closed_trade(store: Store) -> None:
    record(store, 1, Side.BUY, "1", "100", kind="tranche")
    record(store, 2, Side.SELL, "0.4", "120", kind="take_profit", tier=1)
    assert closed_trades(store) == []


def test_a_remainder_within_dust_closes_the_trip(store: Store) -> None:
    """The risk job's dust (the market minimum) decides flat, as `qtbot status` does."""
    RuntimeState(store).set_dust({"BTC/USDT": Decimal("0.001")}, T0)
    record(store, 1, Side.BUY, "1", "100", kind="tranche")
    record(store, 2, Side.SELL, "0.9995", "120", kind="trailing_stop")
    (trade,) = closed_trades(store)
    assert trade.reason == "trailing"
    # The dust remainder is carried into the next cycle, not sold: still one trade.
    record(store, 3, Side.BUY, "1", "100", kind="tranche")
    assert len(closed_trades(store)) == 1


def test_a_buy_fee_in_base_reduces_the_amount_and_counts_in_quote(store: Store) -> None:
    """Bought 1 BTC at 100 with 0.001 BTC fee: 0.999 held, fee 0.1 USDT; sold at 110."""
    record(store, 1, Side.BUY, "1", "100", kind="tranche", fee="0.001", fee_asset="BTC")
    record(store, 2, Side.SELL, "0.999", "110", kind="trailing_stop", fee="0.10989")
    (trade,) = closed_trades(store)
    row = trade_dict(trade)
    assert row["amount"] == "0.999"
    assert row["fees"] == "0.20989"  # 0.001 * 100 + 0.10989
    # (110 - 100) * 0.999 - 0.20989 = 9.78011, over the 99.9 paid for what was bought.
    assert row["pnl"] == "9.78011"


def test_a_sale_filled_in_pieces_is_one_exit(store: Store) -> None:
    record(store, 1, Side.BUY, "1", "100", kind="tranche")
    record(store, 2, Side.SELL, "0.5", "120", kind="take_profit", tier=1)
    # Second piece of the same order (same client id, another venue trade).
    at = T0 + timedelta(hours=3)
    piece = Fill("t2b", "cid-2", None, "BTC/USDT", Side.SELL, Decimal("0.5"), Decimal("121"),
                 Decimal(0), "USDT", at, False)  # fmt: skip
    store.order_repo().record_fills([piece], at)
    (trade,) = closed_trades(store)
    assert trade.exits == ("tier 1",) and trade.sells == 1
    assert trade.exit_avg == Decimal("120.5")


def test_trade_dict_is_json_ready(store: Store) -> None:
    record(store, 1, Side.BUY, "0.5", "100", kind="tranche", fee="0.05")
    record(store, 2, Side.SELL, "0.5", "90", kind="stop_loss", reason="stop loss", fee="0.045")
    (trade,) = closed_trades(store)
    row = trade_dict(trade)
    assert all(isinstance(v, (str, int, list)) for v in row.values())
    assert (row["pnl"], row["pnl_pct"], row["held_seconds"]) == ("-5.095", "-10.19", 3600)
