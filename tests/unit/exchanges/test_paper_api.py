"""PaperExchange API edges the contract suite does not pin: validation, config, lookups."""

from __future__ import annotations

from dataclasses import replace

import pytest

from exchanges.base import (
    ExchangeAdapter,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
)
from exchanges.errors import OrderNotFound, OrderRejected, RetryableError
from exchanges.market_data import StaticMarketData
from tests.unit.exchanges.paper_kit import (
    BTC_USDT,
    SYMBOL,
    T0,
    D,
    limit,
    make_paper,
    market,
    run,
    set_book,
)


def test_paper_exchange_satisfies_the_adapter_protocol_and_names_its_venue() -> None:
    paper, _, _ = make_paper(venue="kraken")

    assert isinstance(paper, ExchangeAdapter)
    assert paper.name == "paper:kraken"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        pytest.param(
            OrderRequest("", SYMBOL, Side.BUY, OrderType.MARKET, D("0.01")),
            "client order id is required for BTC/USDT",
            id="missing_client_order_id",
        ),
        pytest.param(
            OrderRequest("x1", "ETH/USDT", Side.BUY, OrderType.MARKET, D("0.01")),
            "unknown symbol ETH/USDT on paper:binance",
            id="unknown_symbol",
        ),
        pytest.param(
            OrderRequest("x2", SYMBOL, Side.BUY, OrderType.LIMIT, D("0.01")),
            "limit order on BTC/USDT needs a price",
            id="limit_without_price",
        ),
        pytest.param(
            limit("x3", Side.BUY, "0.000019", "30000"),
            "notional 0.3 below minimum 5 for BTC/USDT (requested 0.000019, step 0.00001)",
            id="reason_shows_requested_amount_when_truncated",
        ),
    ],
)
def test_invalid_requests_are_rejected_with_reason(request_: OrderRequest, reason: str) -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")

    with pytest.raises(OrderRejected) as info:
        run(paper.create_order(request_))

    assert info.value.reason == reason


def test_fee_override_from_config_replaces_venue_fees() -> None:
    paper, data, _ = make_paper(maker_fee=D("0"), taker_fee=D("0.0075"))
    set_book(data, "29999", "30000")

    run(paper.create_order(market("fee", Side.BUY, "0.01")))

    markets = run(paper.load_markets())
    assert (markets[SYMBOL].maker_fee, markets[SYMBOL].taker_fee) == (D("0"), D("0.0075"))
    assert [f.fee for f in run(paper.fetch_my_trades(SYMBOL))] == [D("2.25")]


def test_cancel_of_filled_order_is_not_found() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(market("done", Side.BUY, "0.01")))

    with pytest.raises(OrderNotFound, match="done on BTC/USDT is closed, not open"):
        run(paper.cancel_order(SYMBOL, "done"))


def test_fetch_order_under_another_symbol_is_none() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(limit("mine", Side.BUY, "0.01", "29000")))

    assert run(paper.fetch_order("ETH/USDT", "mine")) is None


def test_my_trades_since_filters_by_fill_time() -> None:
    paper, data, clock = make_paper()
    set_book(data, "29999", "30000")
    run(paper.create_order(market("early", Side.BUY, "0.01")))
    later = clock.advance(60)
    run(paper.create_order(market("late", Side.SELL, "0.01")))

    assert [f.client_order_id for f in run(paper.fetch_my_trades(SYMBOL, since=later))] == ["late"]


def test_rejected_client_id_can_be_used_again() -> None:
    paper, data, _ = make_paper()
    set_book(data, "29999", "30000")
    with pytest.raises(OrderRejected):
        run(paper.create_order(limit("retry", Side.BUY, "0.0001", "29000")))

    order = run(paper.create_order(limit("retry", Side.BUY, "0.001", "29000")))

    assert order.status is OrderStatus.OPEN


class FlakyEthData(StaticMarketData):
    """StaticMarketData whose ETH/USDT book fails once `eth_down` is set."""

    eth_down = False

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        if symbol == "ETH/USDT" and self.eth_down:
            raise RetryableError("ETH/USDT depth timed out")
        return await super().fetch_order_book(symbol, limit)


def test_market_data_failure_on_one_symbol_does_not_stop_matching_others() -> None:
    eth = replace(BTC_USDT, symbol="ETH/USDT", base="ETH")
    data = FlakyEthData([BTC_USDT, eth])
    paper, _, _ = make_paper(data=data)
    set_book(data, "29999", "30000")
    data.set_ticker(Ticker("ETH/USDT", D("2999"), D("3000"), D("3000"), T0))
    run(paper.create_order(limit("btc", Side.BUY, "0.01", "29000")))
    run(paper.create_order(limit("eth", Side.BUY, "0.1", "2900")))
    data.eth_down = True
    set_book(data, "28000", "28500")

    fills = run(paper.match_resting())

    assert [f.client_order_id for f in fills] == ["btc"]
    assert [o.client_order_id for o in run(paper.fetch_open_orders())] == ["eth"]
