"""Properties of the paper account over random order/market sequences."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.base import OrderType, Side
from exchanges.errors import OrderRejected
from tests.unit.exchanges.paper_kit import SYMBOL, D, limit, make_paper, market, run, set_book

step = st.builds(
    lambda kind, side, lots, offset, mid: (kind, side, lots, offset, mid),
    st.sampled_from(["market", "limit", "cancel", "move"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=1, max_value=3000),  # amount in 0.00001 lots
    st.integers(min_value=-300, max_value=300),  # limit offset from mid, quote units
    st.integers(min_value=29000, max_value=31000),  # new mid for "move"
)


@settings(max_examples=40, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_balances_match_fills_and_reservations_after_any_sequence(
    steps: list[tuple[str, Side, int, int, int]],
) -> None:
    paper, data, clock = make_paper(usdt="2000", btc="0.05")
    mid = 30000
    set_book(data, str(mid - 1), str(mid), depth="0.003", levels=4)
    for i, (kind, side, lots, offset, new_mid) in enumerate(steps):
        clock.advance(1)
        amount = str(D(lots) * D("0.00001"))
        try:
            if kind == "market":
                run(paper.create_order(market(f"o{i}", side, amount)))
            elif kind == "limit":
                run(paper.create_order(limit(f"o{i}", side, amount, str(mid + offset))))
            elif kind == "cancel":
                open_orders = run(paper.fetch_open_orders())
                if open_orders:
                    run(paper.cancel_order(SYMBOL, open_orders[0].client_order_id))
            else:
                mid = new_mid
                set_book(data, str(mid - 1), str(mid), depth="0.003", levels=4)
                run(paper.match_resting())
        except OrderRejected:
            pass  # too small or unaffordable: legitimately refused, state must be unchanged

    balances = run(paper.fetch_balances())
    fills = run(paper.fetch_my_trades(SYMBOL))
    expected_usdt, expected_btc = D("2000"), D("0.05")
    for fill in fills:
        sign = 1 if fill.side is Side.BUY else -1
        expected_btc += sign * fill.amount
        expected_usdt -= sign * fill.amount * fill.price + fill.fee
    assert balances["USDT"].total == expected_usdt
    assert balances["BTC"].total == expected_btc
    for b in balances.values():
        assert b.free >= 0 and b.used >= 0

    open_orders = run(paper.fetch_open_orders())
    reserved_btc = sum((o.remaining for o in open_orders if o.side is Side.SELL), Decimal(0))
    reserved_usdt = sum(
        (o.remaining * (o.price or 0) * D("1.002") for o in open_orders if o.side is Side.BUY),
        Decimal(0),
    )
    assert balances["BTC"].used == reserved_btc
    assert balances["USDT"].used == reserved_usdt
    for order in open_orders:
        assert order.type is OrderType.LIMIT and 0 <= order.filled < order.amount
