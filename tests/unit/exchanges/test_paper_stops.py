"""One test per stop-order rule of the paper engine (S1-S3, SC1-SC3, R1 in
`exchanges.paper.stops`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.errors import (
    OrderNotFound,
    OrderRejected,
    StopTriggered,
    StopWouldTrigger,
)
from exchanges.stops import ReplaceMethod, capabilities_of
from tests.unit.exchanges.paper_kit import (
    SYMBOL,
    T0,
    D,
    limit,
    make_paper,
    run,
    set_book,
    set_ticker,
)


def stop(cid: str, side: Side, amount: str, trigger: str, price: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.STOP_LIMIT, D(amount), D(price), D(trigger))


def btc_used(paper: object) -> D:
    return run(paper.fetch_balances())["BTC"].used  # type: ignore[attr-defined]


def test_paper_declares_stop_capabilities() -> None:
    paper, _, _ = make_paper()
    caps = capabilities_of(paper)
    assert caps.stop_orders and caps.stop_order_type is OrderType.STOP_LIMIT
    assert caps.replace_method is ReplaceMethod.CANCEL_REPLACE and caps.stop_reserves_base


def test_rule_s1_sell_stop_rests_untriggered_and_reserves_base() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")

    order = run(paper.create_order(stop("s1", Side.SELL, "0.1", "29000", "28900")))

    assert order.status is OrderStatus.OPEN and order.waiting_for_trigger
    assert (order.trigger_price, order.price, order.type) == (
        D("29000"),
        D("28900"),
        OrderType.STOP_LIMIT,
    )
    assert btc_used(paper) == D("0.1")
    assert [o.client_order_id for o in run(paper.fetch_open_orders(SYMBOL))] == ["s1"]


def test_rule_s1_stop_never_fills_as_a_limit_before_its_trigger() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s1n", Side.SELL, "0.1", "29000", "28900")))

    # A plain limit sell at 28900 would fill against this bid; the stop must not.
    set_book(data, "29500", "29501")
    assert run(paper.match_resting()) == []

    order = run(paper.fetch_order(SYMBOL, "s1n"))
    assert order is not None and order.waiting_for_trigger and order.filled == 0


@pytest.mark.parametrize(
    ("side", "trigger", "price"),
    [
        pytest.param(Side.SELL, "30000", "29900", id="sell_stop_at_the_bid"),
        pytest.param(Side.SELL, "30500", "30400", id="sell_stop_above_the_bid"),
        pytest.param(Side.BUY, "30001", "30100", id="buy_stop_at_the_ask"),
    ],
)
def test_rule_s1_stop_the_market_already_reached_is_refused(
    side: Side, trigger: str, price: str
) -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")

    with pytest.raises(StopWouldTrigger) as info:
        run(paper.create_order(stop("s1r", side, "0.01", trigger, price)))

    assert "would trigger immediately" in info.value.reason
    assert run(paper.fetch_order(SYMBOL, "s1r")) is None
    assert btc_used(paper) == 0


def test_rule_s1_stop_below_min_notional_rejected_at_its_limit_price() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")

    with pytest.raises(OrderRejected) as info:
        run(paper.create_order(stop("s1m", Side.SELL, "0.0001", "29000", "28900")))

    assert "notional 2.89 below minimum 5" in info.value.reason


@pytest.mark.parametrize(
    ("trigger", "price"),
    [pytest.param(None, "28900", id="no_trigger"), pytest.param("29000", None, id="no_limit")],
)
def test_rule_s1_stop_needs_a_trigger_and_a_limit(trigger: str | None, price: str | None) -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    req = OrderRequest(
        "s1p",
        SYMBOL,
        Side.SELL,
        OrderType.STOP_LIMIT,
        D("0.01"),
        None if price is None else D(price),
        None if trigger is None else D(trigger),
    )

    with pytest.raises(OrderRejected, match="trigger price and a limit price"):
        run(paper.create_order(req))


def test_rule_s2_sell_stop_triggers_when_the_bid_reaches_it_and_fills_as_taker() -> None:
    paper, data, clock = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s2", Side.SELL, "0.1", "29000", "28900")))

    clock.advance(60)
    set_book(data, "29000", "29001")
    fills = run(paper.match_resting())

    assert [(f.price, f.amount, f.is_maker, f.client_order_id) for f in fills] == [
        (D("29000"), D("0.1"), False, "s2")
    ]
    assert fills[0].fee == D("29000") * D("0.1") * D("0.002")  # taker fee
    order = run(paper.fetch_order(SYMBOL, "s2"))
    assert order is not None and order.status is OrderStatus.CLOSED and order.triggered
    assert order.updated_at == clock.now
    assert btc_used(paper) == 0
    assert [f.client_order_id for f in run(paper.fetch_my_trades(SYMBOL))] == ["s2"]


def test_rule_s2_triggered_stop_sells_no_lower_than_its_limit_and_the_rest_rests() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s2p", Side.SELL, "0.1", "29000", "28998")))

    set_book(data, "29000", "29001", depth="0.02", levels=5)  # bids 29000 .. 28996
    fills = run(paper.match_resting())

    assert [(f.price, f.amount) for f in fills] == [
        (D("29000"), D("0.02")),
        (D("28999"), D("0.02")),
        (D("28998"), D("0.02")),
    ]
    order = run(paper.fetch_order(SYMBOL, "s2p"))
    assert order is not None and order.is_open and order.triggered
    assert order.filled == D("0.06") and btc_used(paper) == D("0.04")

    set_book(data, "28998", "28999", depth="1")
    later = run(paper.match_resting())
    assert [(f.price, f.amount, f.is_maker) for f in later] == [(D("28998"), D("0.04"), True)]


def test_rule_s2_gap_below_the_limit_triggers_without_filling() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s2g", Side.SELL, "0.1", "29000", "28900")))

    set_book(data, "28000", "28001")
    assert run(paper.match_resting()) == []

    order = run(paper.fetch_order(SYMBOL, "s2g"))
    assert order is not None and order.is_open and order.triggered and order.filled == 0


def test_rule_s2_buy_stop_triggers_when_the_ask_reaches_it() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s2b", Side.BUY, "0.01", "31000", "31100")))
    assert run(paper.fetch_balances())["USDT"].used > D("311")

    set_book(data, "31049", "31050")
    fills = run(paper.match_resting())

    assert [(f.side, f.price, f.amount) for f in fills] == [(Side.BUY, D("31050"), D("0.01"))]


def test_rule_s2_ticker_only_stop_fills_at_bid_minus_slippage_capped_at_limit() -> None:
    paper, data, _ = make_paper(use_order_book=False)
    set_ticker(data, "30000", "30001")
    run(paper.create_order(stop("s2t", Side.SELL, "0.1", "29000", "28990")))

    set_ticker(data, "29000", "29001")
    fills = run(paper.match_resting())
    # 29000 * (1 - 0.0005) = 28985.5, below the limit: the limit caps it.
    assert [(f.price, f.amount) for f in fills] == [(D("28990"), D("0.1"))]


def test_rule_s3_higher_sell_stop_takes_the_book_first() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("low", Side.SELL, "0.05", "29000", "28000")))
    run(paper.create_order(stop("high", Side.SELL, "0.05", "29500", "28000")))

    set_book(data, "28990", "28991", depth="0.06", levels=1)
    fills = run(paper.match_resting())

    assert [(f.client_order_id, f.amount) for f in fills] == [
        ("high", D("0.05")),
        ("low", D("0.01")),
    ]


def test_rule_sc1_candle_through_the_trigger_fills_at_the_trigger_as_taker() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("c1", Side.SELL, "0.1", "29000", "28900")))

    fills = paper.match_candle(SYMBOL, D("30000"), D("30100"), D("28500"), D("28700"), T0)

    assert [(f.price, f.amount, f.is_maker) for f in fills] == [(D("29000"), D("0.1"), False)]


def test_rule_sc1_candle_above_the_trigger_leaves_the_stop_waiting() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("c1n", Side.SELL, "0.1", "29000", "28900")))

    assert paper.match_candle(SYMBOL, D("30000"), D("30100"), D("29000.01"), D("29500"), T0) == []
    order = run(paper.fetch_order(SYMBOL, "c1n"))
    assert order is not None and order.waiting_for_trigger


def test_rule_sc1_candle_before_the_stop_existed_cannot_trigger_it() -> None:
    paper, data, clock = make_paper()
    set_book(data, "30000", "30001")
    clock.advance(120)
    run(paper.create_order(stop("c1c", Side.SELL, "0.1", "29000", "28900")))

    earlier = T0 + timedelta(seconds=60)
    assert paper.match_candle(SYMBOL, D("30000"), D("30100"), D("28000"), D("28500"), earlier) == []


def test_rule_sc2_gap_below_the_trigger_fills_at_the_open() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("c2", Side.SELL, "0.1", "29000", "28900")))

    fills = paper.match_candle(SYMBOL, D("28950"), D("28990"), D("28600"), D("28700"), T0)

    assert [(f.price, f.is_maker) for f in fills] == [(D("28950"), False)]


def test_rule_sc2_gap_below_the_limit_fills_at_the_limit_if_the_candle_comes_back() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("c2b", Side.SELL, "0.1", "29000", "28900")))

    fills = paper.match_candle(SYMBOL, D("28800"), D("28950"), D("28600"), D("28700"), T0)

    assert [(f.price, f.is_maker) for f in fills] == [(D("28900"), True)]


def test_rule_sc2_gap_below_the_limit_without_recovery_rests_as_a_limit() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("c2r", Side.SELL, "0.1", "29000", "28900")))

    assert paper.match_candle(SYMBOL, D("28800"), D("28850"), D("28600"), D("28700"), T0) == []
    order = run(paper.fetch_order(SYMBOL, "c2r"))
    assert order is not None and order.triggered and order.is_open

    later = T0 + timedelta(minutes=1)
    fills = paper.match_candle(SYMBOL, D("28700"), D("28950"), D("28650"), D("28900"), later)
    assert [(f.price, f.is_maker) for f in fills] == [(D("28900"), True)]  # rule C1


def test_rule_sc3_stop_is_matched_before_the_take_profit_on_one_candle() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(limit("tp", Side.SELL, "0.5", "31000")))
    run(paper.create_order(stop("sl", Side.SELL, "0.5", "29000", "28900")))

    fills = paper.match_candle(SYMBOL, D("30000"), D("31500"), D("28500"), D("30000"), T0)

    assert [f.client_order_id for f in fills] == ["sl", "tp"]


def test_rule_r1_replace_moves_the_stop_in_one_step_and_reuses_the_reservation() -> None:
    paper, data, _ = make_paper(btc="1")
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("r-old", Side.SELL, "1", "28000", "27900")))

    result = run(
        paper.replace_stop(SYMBOL, "r-old", stop("r-new", Side.SELL, "1", "29000", "28900"))
    )

    assert result.method is ReplaceMethod.CANCEL_REPLACE and result.unprotected_for is None
    assert result.previous.status is OrderStatus.CANCELED
    assert result.order.client_order_id == "r-new" and result.order.waiting_for_trigger
    assert result.order.trigger_price == D("29000")
    assert [o.client_order_id for o in run(paper.fetch_open_orders(SYMBOL))] == ["r-new"]
    assert btc_used(paper) == D("1")


def test_rule_r1_replacement_that_would_trigger_leaves_the_old_stop_resting() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("r-keep", Side.SELL, "0.5", "28000", "27900")))

    with pytest.raises(StopWouldTrigger):
        run(paper.replace_stop(SYMBOL, "r-keep", stop("r-bad", Side.SELL, "0.5", "30500", "30400")))

    assert [o.client_order_id for o in run(paper.fetch_open_orders(SYMBOL))] == ["r-keep"]
    assert btc_used(paper) == D("0.5")


def test_rule_r1_triggered_stop_is_not_replaced() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("r-fired", Side.SELL, "0.5", "29000", "28900")))
    set_book(data, "28000", "28001")
    run(paper.match_resting())

    with pytest.raises(StopTriggered):
        run(paper.replace_stop(SYMBOL, "r-fired", stop("r-x", Side.SELL, "0.5", "27000", "26900")))
    assert run(paper.fetch_order(SYMBOL, "r-x")) is None


@pytest.mark.parametrize(
    "old_cid",
    [pytest.param("never-placed", id="unknown"), pytest.param("r-gone", id="canceled")],
)
def test_rule_r1_replacing_a_stop_that_is_not_open_raises_not_found(old_cid: str) -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("r-gone", Side.SELL, "0.5", "29000", "28900")))
    run(paper.cancel_order(SYMBOL, "r-gone"))

    with pytest.raises(OrderNotFound):
        run(paper.replace_stop(SYMBOL, old_cid, stop("r-y", Side.SELL, "0.5", "28000", "27900")))


def test_rule_r1_replacement_must_be_a_stop_on_the_same_side() -> None:
    paper, data, _ = make_paper()
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("r-side", Side.SELL, "0.5", "29000", "28900")))

    with pytest.raises(OrderRejected, match="must be a sell stop"):
        run(paper.replace_stop(SYMBOL, "r-side", limit("r-lim", Side.SELL, "0.5", "31000")))
