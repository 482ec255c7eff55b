"""The paper engine's bookkeeping shortcuts give what the plain way gave: `settle` builds the
order's next state field by field (not with `dataclasses.replace`) and keeps an order nothing
happened to as it was; a refusal is worded only when it happens, in the same words;
`fetch_balances` reuses a Balance only while its asset's ledger balance is unchanged; the
in-memory ledger checks one change's status move without the batch machinery."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from exchanges.base import Order, OrderRequest, OrderStatus, OrderType, Side
from exchanges.errors import InsufficientFunds
from exchanges.paper.accounting import settle
from exchanges.paper.ledger import (
    AssetBalance,
    IllegalTransition,
    InMemoryPaperLedger,
    LedgerChange,
    PaperOrder,
)
from exchanges.paper.matching import Execution
from tests.unit.exchanges.paper_kit import (
    BTC_USDT,
    SYMBOL,
    T0,
    D,
    limit,
    make_paper,
    market,
    run,
    set_ticker,
)

LATER = T0.replace(hour=13)
SETTLED = {"status", "filled", "average", "fee", "updated_at"}


def _stop(triggered: bool) -> PaperOrder:
    """A sell stop-limit with a value in every field, so a field dropped or mixed up shows."""
    order = Order(
        client_order_id="s1",
        exchange_order_id="paper-7",
        symbol=SYMBOL,
        side=Side.SELL,
        type=OrderType.STOP_LIMIT,
        amount=D("0.5"),
        price=D("29000"),
        status=OrderStatus.OPEN,
        filled=D(0),
        average=None,
        fee=D(0),
        created_at=T0,
        updated_at=T0,
        trigger_price=D("29100"),
        triggered=triggered,
    )
    return PaperOrder(order, 7, "BTC", D("0.5"), D(0), D(0))


_HELD = {"BTC": AssetBalance(free=D(1), used=D("0.5")), "USDT": AssetBalance(D(100), D(0))}


def test_settle_builds_every_field_the_order_and_its_bookkeeping_have() -> None:
    # settle() lists the fields by hand: a field added to Order or PaperOrder must be added
    # there too, or it would silently fall back to its default on every fill.
    assert [f.name for f in fields(Order)] == [
        "client_order_id",
        "exchange_order_id",
        "symbol",
        "side",
        "type",
        "amount",
        "price",
        "status",
        "filled",
        "average",
        "fee",
        "created_at",
        "updated_at",
        "trigger_price",
        "triggered",
    ], "a new Order field: carry it over in exchanges.paper.accounting.settle"
    assert [f.name for f in fields(PaperOrder)] == [
        "order",
        "seq",
        "reserve_asset",
        "reserved",
        "reserve_fee",
        "filled_cost",
    ], "a new PaperOrder field: carry it over in exchanges.paper.accounting.settle"


@pytest.mark.parametrize("amount", ["0.2", "0.5"], ids=["partial", "complete"])
def test_settle_changes_only_what_a_fill_changes(amount: str) -> None:
    paper = _stop(triggered=True)
    execution = Execution(price=D("29050"), amount=D(amount), is_maker=False)

    change = settle(paper, [execution], _HELD, BTC_USDT, LATER, ["paper-t1"])

    cost = D(amount) * D("29050")
    fee = cost * BTC_USDT.taker_fee
    done = amount == "0.5"
    expected_order = replace(
        paper.order,
        status=OrderStatus.CLOSED if done else OrderStatus.OPEN,
        filled=D(amount),
        average=cost / D(amount),
        fee=fee,
        updated_at=LATER,
    )
    left = D(0) if done else D("0.5") - D(amount)
    assert change.order == replace(paper, order=expected_order, reserved=left, filled_cost=cost)
    assert change.balances == {
        "BTC": AssetBalance(free=D(1), used=D("0.5") - D(amount)),
        "USDT": AssetBalance(free=D(100) + cost - fee, used=D(0)),
    }
    assert [f.trade_id for f in change.fills] == ["paper-t1"]


def test_settle_with_nothing_executed_keeps_the_order_as_it_was() -> None:
    paper = _stop(triggered=False)

    change = settle(paper, [], _HELD, BTC_USDT, LATER, [])

    assert change.order == paper and change.order.order.updated_at == T0
    assert change.fills == ()
    assert change.balances == _HELD and change.balances is not _HELD


def test_a_market_order_with_nothing_executed_expires_and_releases_its_reservation() -> None:
    paper = _stop(triggered=True)
    order = replace(paper.order, type=OrderType.MARKET, price=None, trigger_price=None)

    change = settle(replace(paper, order=order), [], _HELD, BTC_USDT, LATER, [])

    assert change.order.order.status is OrderStatus.EXPIRED
    assert change.order.order.updated_at == LATER and change.order.reserved == 0
    assert change.balances["BTC"] == AssetBalance(free=D("1.5"), used=D(0))


@pytest.mark.parametrize(
    ("request_", "usdt", "btc", "reason"),
    [
        (
            limit("r1", Side.BUY, "0.01", "29000"),
            "100",
            "0",
            "insufficient USDT for buy 0.01 BTC/USDT at 29000: need 290.58, free 100",
        ),
        (
            market("r2", Side.BUY, "0.01"),
            "100",
            "0",
            "insufficient USDT for buy 0.01 BTC/USDT at market: need 300.7503, free 100",
        ),
        (
            market("r3", Side.SELL, "2"),
            "100",
            "1.5",
            "insufficient BTC for sell 2 BTC/USDT at market: need 2, free 1.5",
        ),
        (
            limit("r4", Side.SELL, "2.50", "31000.10"),
            "100",
            "1.5",
            "insufficient BTC for sell 2.5 BTC/USDT at 31000.1: need 2.5, free 1.5",
        ),
    ],
    ids=["limit-buy", "market-buy", "market-sell", "limit-sell"],
)
def test_a_refusal_for_funds_names_the_order_as_before(
    request_: OrderRequest, usdt: str, btc: str, reason: str
) -> None:
    paper, data, _ = make_paper(usdt=usdt, btc=btc, use_order_book=False)
    set_ticker(data, "30000", "30000")

    with pytest.raises(InsufficientFunds) as info:
        run(paper.create_order(request_))

    assert info.value.reason == reason


def test_fetch_balances_follows_every_change_and_is_the_callers_to_change() -> None:
    paper, data, clock = make_paper(usdt="1000", btc="0", use_order_book=False)
    set_ticker(data, "30000", "30000")
    first = run(paper.fetch_balances())
    first.pop("USDT")
    first["XRP"] = first["BTC"]

    again = run(paper.fetch_balances())
    assert set(again) == {"USDT", "BTC"} and again["USDT"].free == D(1000)

    run(paper.create_order(limit("b1", Side.BUY, "0.01", "29000")))
    held = run(paper.fetch_balances())
    assert held["USDT"].used == D("0.01") * D("29000") * D("1.002")
    assert held["USDT"].total == D(1000) and held["BTC"] is again["BTC"]

    paper.match_candle(SYMBOL, D("29500"), D("29600"), D("28900"), D("29000"), clock())
    filled = run(paper.fetch_balances())
    assert filled["BTC"].free == D("0.01") and filled["USDT"].used == 0
    assert filled["USDT"].total == D(1000) - D("290") * D("1.001")


def test_the_in_memory_ledger_refuses_a_move_out_of_a_final_status_and_keeps_its_state() -> None:
    ledger = InMemoryPaperLedger()
    paper = _stop(triggered=True)
    closed = settle(paper, [Execution(D("29050"), D("0.5"), False)], _HELD, BTC_USDT, LATER, ["t1"])
    ledger.apply(LedgerChange(order=paper))
    ledger.apply(closed)

    with pytest.raises(IllegalTransition, match="s1: closed -> open not allowed"):
        ledger.apply(LedgerChange(order=paper, balances={"BTC": AssetBalance(D(9), D(9))}))

    assert ledger.get_order("s1") == closed.order and ledger.open_orders() == []
    assert ledger.balances() == closed.balances and ledger.fill_count() == 1
