"""Market precision/limit rules and the error hierarchy of the exchange contract."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchanges import errors
from exchanges.base import Side, Ticker
from tests.unit.exchanges.paper_kit import BTC_USDT, SYMBOL, T0, D

amounts = st.decimals(min_value=D("0"), max_value=D("10000"), places=9, allow_nan=False)
prices = st.decimals(min_value=D("0.001"), max_value=D("1000000"), places=4, allow_nan=False)


@given(amounts)
def test_round_amount_truncates_to_a_step_multiple(amount: Decimal) -> None:
    rounded = BTC_USDT.round_amount(amount)

    assert rounded <= amount
    assert amount - rounded < BTC_USDT.amount_step
    assert rounded % BTC_USDT.amount_step == 0


@given(prices)
def test_round_price_goes_to_nearest_tick(price: Decimal) -> None:
    rounded = BTC_USDT.round_price(price)

    assert abs(rounded - price) <= BTC_USDT.price_tick / 2
    assert rounded % BTC_USDT.price_tick == 0


@given(prices)
def test_round_price_with_side_never_worsens_the_limit(price: Decimal) -> None:
    buy, sell = BTC_USDT.round_price(price, Side.BUY), BTC_USDT.round_price(price, Side.SELL)

    assert buy <= price <= sell
    assert sell - buy <= BTC_USDT.price_tick


@pytest.mark.parametrize(
    ("amount", "price", "reason"),
    [
        pytest.param("0.0002", "30000", None, id="ok_above_minimum_amount_and_min_cost"),
        pytest.param("0", "30000", "amount 0 below minimum 0.00001 for BTC/USDT", id="zero"),
        pytest.param(
            "0.0001", "29000", "notional 2.9 below minimum 5 for BTC/USDT", id="below_min_cost"
        ),
        pytest.param(
            "9000.5", "1", "amount 9000.5 above maximum 9000 for BTC/USDT", id="above_max_amount"
        ),
        pytest.param("0.0001", None, None, id="market_without_reference_skips_notional"),
        pytest.param("0.01", "0", "price 0 is not positive for BTC/USDT", id="zero_price"),
    ],
)
def test_market_check_names_symbol_value_and_limit(
    amount: str, price: str | None, reason: str | None
) -> None:
    assert BTC_USDT.check(D(amount), None if price is None else D(price)) == reason


def test_ticker_price_prefers_last_then_mid() -> None:
    assert Ticker(SYMBOL, D("99"), D("101"), D("100.5"), T0).price == D("100.5")
    assert Ticker(SYMBOL, D("99"), D("101"), None, T0).price == D("100")
    assert Ticker(SYMBOL, None, D("101"), None, T0).price == D("101")


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        pytest.param(errors.RateLimited, errors.RetryableError, id="rate_limited_is_retryable"),
        pytest.param(errors.InsufficientFunds, errors.OrderRejected, id="funds_is_rejection"),
        pytest.param(errors.DuplicateClientOrderId, errors.OrderRejected, id="dup_is_rejection"),
        pytest.param(errors.OrderOutcomeUnknown, errors.ExchangeError, id="unknown_outcome"),
    ],
)
def test_error_hierarchy(error: type[errors.ExchangeError], parent: type[Exception]) -> None:
    assert issubclass(error, parent)


def test_unknown_outcome_is_not_retryable_and_keeps_reason_and_client_id() -> None:
    exc = errors.OrderOutcomeUnknown("timeout after send", client_order_id="abc")

    assert not isinstance(exc, errors.RetryableError)
    assert (exc.reason, exc.client_order_id, str(exc)) == ("timeout after send", "abc", exc.reason)
    assert errors.RateLimited("slow down", retry_after=2.5).retry_after == 2.5
