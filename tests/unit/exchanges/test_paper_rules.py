"""One test per fill rule of the paper engine (rule ids as in `exchanges.paper.engine`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.base import OrderBook, OrderStatus, Side
from exchanges.errors import InsufficientFunds, OrderRejected
from tests.unit.exchanges.paper_kit import (
    SYMBOL,
    T0,
    D,
    limit,
    make_paper,
    market,
    run,
    set_book,
    set_ticker,
)


def test_rule_m1_market_buy_walks_the_book_level_by_level() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000", depth="0.004", levels=5)

    order = run(paper.create_order(market("m1", Side.BUY, "0.01")))

    fills = run(paper.fetch_my_trades(SYMBOL))
    assert [(f.price, f.amount, f.is_maker) for f in fills] == [
        (D("30000"), D("0.004"), False),
        (D("30001"), D("0.004"), False),
        (D("30002"), D("0.002"), False),
    ]
    assert order.status is OrderStatus.CLOSED
    assert order.average == (D("120") + D("120.004") + D("60.004")) / D("0.01")


def test_rule_m1_market_sell_walks_the_bids() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000", depth="0.004", levels=5)

    run(paper.create_order(market("m1s", Side.SELL, "0.005")))

    fills = run(paper.fetch_my_trades(SYMBOL))
    assert [(f.price, f.amount) for f in fills] == [
        (D("29999"), D("0.004")),
        (D("29998"), D("0.001")),
    ]


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        # 30000 * 1.0005 = 30015 exactly; 29999.99 * 0.9995 = 29984.990005 -> floor to tick.
        pytest.param(Side.BUY, D("30015.00"), id="buy_pays_ask_plus_slippage"),
        pytest.param(Side.SELL, D("29984.99"), id="sell_gets_bid_minus_slippage"),
    ],
)
def test_rule_m2_ticker_only_market_order_fills_with_slippage(
    side: Side, expected: Decimal
) -> None:
    paper, data, _ = make_paper(slippage=D("0.0005"))
    set_ticker(data, "29999.99", "30000")

    order = run(paper.create_order(market("m2", side, "0.01")))

    assert order.status is OrderStatus.CLOSED
    assert order.average == expected
    assert [f.price for f in run(paper.fetch_my_trades(SYMBOL))] == [expected]


def test_rule_m3_market_order_beyond_book_depth_expires_the_rest() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000", depth="0.001", levels=2)

    order = run(paper.create_order(market("m3", Side.BUY, "0.005")))

    assert order.status is OrderStatus.EXPIRED
    assert order.filled == D("0.002")
    balances = run(paper.fetch_balances())
    assert balances["USDT"].used == 0
    assert balances["BTC"].free == D("1.002")


def test_rule_m3_market_order_without_any_price_is_rejected() -> None:
    paper, data, _ = make_paper()
    data.set_order_book(OrderBook(SYMBOL, bids=((D("29999"), D("1")),), asks=(), timestamp=T0))

    with pytest.raises(OrderRejected, match="no ask price for BTC/USDT"):
        run(paper.create_order(market("m3x", Side.BUY, "0.001")))


def test_rule_l1_crossing_limit_fills_at_book_prices_up_to_limit_then_rests() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000", depth="0.004", levels=5)

    order = run(paper.create_order(limit("l1", Side.BUY, "0.01", "30001")))

    fills = run(paper.fetch_my_trades(SYMBOL))
    assert [(f.price, f.amount, f.is_maker) for f in fills] == [
        (D("30000"), D("0.004"), False),
        (D("30001"), D("0.004"), False),
    ]
    assert order.status is OrderStatus.OPEN
    assert order.filled == D("0.008")


def test_rule_l1_ticker_only_crossing_limit_is_capped_at_its_price() -> None:
    paper, data, _ = make_paper(slippage=D("0.01"))
    set_ticker(data, "29999", "30000")

    order = run(paper.create_order(limit("l1t", Side.BUY, "0.01", "30100")))

    assert order.status is OrderStatus.CLOSED
    assert order.average == D("30100")  # ask + 1 % slippage would be 30300


def test_rule_l2_resting_buy_fills_at_its_limit_as_maker_when_ask_trades_through() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("l2", Side.BUY, "0.01", "29500")))
    set_book(data, "29400", "29450")

    fills = run(paper.match_resting())

    assert [(f.price, f.amount, f.is_maker) for f in fills] == [(D("29500"), D("0.01"), True)]
    assert run(paper.fetch_order(SYMBOL, "l2")).status is OrderStatus.CLOSED  # type: ignore[union-attr]


def test_rule_l2_resting_sell_waits_until_bid_reaches_it() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("l2s", Side.SELL, "0.01", "30500")))

    set_book(data, "30499.99", "30500.5")
    assert run(paper.match_resting()) == []
    set_book(data, "30500", "30501")
    assert [f.price for f in run(paper.match_resting())] == [D("30500")]


def test_rule_l2_thin_book_gives_partial_fill_capped_by_volume_through_limit() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("l2p", Side.BUY, "0.01", "29500")))
    # asks at 29499, 29500 reach the limit; 29501 does not.
    set_book(data, "29400", "29499", depth="0.003", levels=3)

    fills = run(paper.match_resting())

    assert sum(f.amount for f in fills) == D("0.006")
    order = run(paper.fetch_order(SYMBOL, "l2p"))
    assert order is not None and order.status is OrderStatus.OPEN
    assert order.remaining == D("0.004")


def test_rule_l2_ticker_only_resting_order_fills_completely() -> None:
    paper, data, _ = make_paper()
    set_ticker(data, "29999", "30000")
    run(paper.create_order(limit("l2t", Side.BUY, "0.01", "29500")))
    set_ticker(data, "29400", "29500")

    fills = run(paper.match_resting())

    assert [(f.price, f.amount) for f in fills] == [(D("29500"), D("0.01"))]


def test_rule_l3_resting_orders_share_liquidity_in_price_time_priority() -> None:
    paper, data, clock = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("older-lower", Side.BUY, "0.004", "29500")))
    clock.advance(1)
    run(paper.create_order(limit("newer-higher", Side.BUY, "0.004", "29600")))
    clock.advance(1)
    run(paper.create_order(limit("newest-lower", Side.BUY, "0.004", "29500")))
    set_book(data, "29000", "29400", depth="0.006", levels=1)

    fills = run(paper.match_resting())

    assert [(f.client_order_id, f.amount) for f in fills] == [
        ("newer-higher", D("0.004")),
        ("older-lower", D("0.002")),
    ]


def test_rule_c1_candle_buy_fills_at_limit_when_low_touches_it() -> None:
    paper, data, _ = make_paper()
    set_ticker(data, "30000", "30000")
    run(paper.create_order(limit("c1", Side.BUY, "0.01", "29500")))

    fills = paper.match_candle(SYMBOL, D("30000"), D("30100"), D("29500"), D("29800"), T0)

    assert [(f.price, f.amount, f.is_maker) for f in fills] == [(D("29500"), D("0.01"), True)]


def test_rule_c1_candle_buy_not_touched_stays_open() -> None:
    paper, data, _ = make_paper()
    set_ticker(data, "30000", "30000")
    run(paper.create_order(limit("c1n", Side.BUY, "0.01", "29500")))

    assert paper.match_candle(SYMBOL, D("30000"), D("30100"), D("29500.01"), D("29800"), T0) == []


@pytest.mark.parametrize(
    ("side", "price", "open_", "expected"),
    [
        pytest.param(Side.BUY, "29500", "29000", D("29000"), id="gap_down_buy_fills_at_open"),
        pytest.param(Side.SELL, "30500", "31000", D("31000"), id="gap_up_sell_fills_at_open"),
    ],
)
def test_rule_c1_gap_fills_at_the_open(side: Side, price: str, open_: str, expected: D) -> None:
    paper, data, _ = make_paper()
    set_ticker(data, "30000", "30000")
    run(paper.create_order(limit("gap", side, "0.01", price)))
    low, high = min(D(open_), D(price)) - 100, max(D(open_), D(price)) + 100

    fills = paper.match_candle(SYMBOL, D(open_), high, low, D(open_), T0)

    assert [f.price for f in fills] == [expected]


def test_rule_c2_candle_ignores_orders_created_after_its_open() -> None:
    paper, data, clock = make_paper()
    set_ticker(data, "30000", "30000")
    clock.advance(30)
    run(paper.create_order(limit("c2", Side.BUY, "0.01", "29500")))

    assert paper.match_candle(SYMBOL, D("30000"), D("30100"), D("29000"), D("29800"), T0) == []
    next_bar = clock.now
    assert (
        len(paper.match_candle(SYMBOL, D("29800"), D("29900"), D("29400"), D("29600"), next_bar))
        == 1
    )


def test_rule_f1_fees_in_quote_taker_on_market_maker_on_resting() -> None:
    paper, data, _ = make_paper(usdt="10000", btc="0")
    set_book(data, "29999", "30000")
    run(paper.create_order(market("f1-buy", Side.BUY, "0.01")))  # taker 0.2 %
    run(paper.create_order(limit("f1-sell", Side.SELL, "0.01", "31000")))
    set_book(data, "31000", "31001")
    run(paper.match_resting())  # maker 0.1 %

    fees = {f.client_order_id: (f.fee, f.fee_asset) for f in run(paper.fetch_my_trades(SYMBOL))}
    assert fees == {"f1-buy": (D("0.6"), "USDT"), "f1-sell": (D("0.31"), "USDT")}
    balances = run(paper.fetch_balances())
    assert balances["USDT"].total == D("10000") - D("300.6") + D("310") - D("0.31")
    assert balances["BTC"].total == 0


def test_rule_f2_buy_limit_reserves_price_plus_max_fee_and_releases_on_fill() -> None:
    paper, data, _ = make_paper(usdt="1000")
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("f2", Side.BUY, "0.01", "29000")))
    assert run(paper.fetch_balances())["USDT"].used == D("290") * D("1.002")

    set_book(data, "28000", "28999", depth="0.004", levels=1)
    run(paper.match_resting())
    assert run(paper.fetch_balances())["USDT"].used == D("0.006") * D("29000") * D("1.002")

    set_book(data, "28000", "28999")
    run(paper.match_resting())
    balances = run(paper.fetch_balances())
    assert balances["USDT"].used == 0
    assert balances["USDT"].free == D("1000") - D("290") * D("1.001")


def test_rule_f2_buy_needing_more_than_free_quote_is_insufficient_funds() -> None:
    paper, data, _ = make_paper(usdt="100")
    set_book(data, "29999", "30000")

    with pytest.raises(InsufficientFunds) as info:
        run(paper.create_order(limit("f2x", Side.BUY, "0.01", "29000")))

    assert info.value.reason == (
        "insufficient USDT for buy 0.01 BTC/USDT at 29000: need 290.58, free 100"
    )
    assert run(paper.fetch_order(SYMBOL, "f2x")) is None
