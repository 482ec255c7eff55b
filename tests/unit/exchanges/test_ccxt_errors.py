"""ccxt -> exchanges.errors translation, Retry-After parsing and read backoff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
import pytest
from ccxt.base import errors as ccxt_errors

from exchanges import errors
from exchanges.ccxt.errors import Action, VenueThrottled, VenueUnavailable, parse_retry_after
from exchanges.ccxt.errors import translate as translate_error
from exchanges.retry import RetryPolicy, backoff_delay, retry_read
from exchanges.venues import venue_spec

BINANCE = venue_spec("binance")
READ, PLACE, CANCEL = Action.READ, Action.PLACE, Action.CANCEL


@pytest.mark.parametrize(
    ("exc", "action", "expected"),
    [
        pytest.param(
            VenueThrottled("429", 3.0), PLACE, errors.RateLimited, id="throttled_place_was_refused"
        ),
        pytest.param(ccxt_errors.DDoSProtection("418"), READ, errors.RateLimited, id="ban_read"),
        pytest.param(
            ccxt_errors.InvalidNonce("-1021"),
            PLACE,
            errors.RetryableError,
            id="clock_skew_place_was_refused",
        ),
        pytest.param(
            ccxt_errors.RequestTimeout("t"),
            PLACE,
            errors.OrderOutcomeUnknown,
            id="timeout_place_unknown",
        ),
        pytest.param(
            ccxt_errors.RequestTimeout("t"),
            READ,
            errors.RetryableError,
            id="timeout_read_retryable",
        ),
        pytest.param(
            VenueUnavailable("503", None), PLACE, errors.OrderOutcomeUnknown, id="5xx_place_unknown"
        ),
        pytest.param(
            VenueUnavailable("503", None), CANCEL, errors.RetryableError, id="5xx_cancel_retryable"
        ),
        pytest.param(
            ccxt_errors.BadResponse("garbled"),
            PLACE,
            errors.OrderOutcomeUnknown,
            id="garbled_place_unknown",
        ),
        pytest.param(TimeoutError(), READ, errors.RetryableError, id="raw_timeout"),
        pytest.param(
            ccxt_errors.AuthenticationError("-1022"),
            READ,
            errors.AuthenticationFailed,
            id="bad_signature",
        ),
        pytest.param(
            ccxt_errors.PermissionDenied("no trading"),
            PLACE,
            errors.AuthenticationFailed,
            id="no_permission",
        ),
        pytest.param(
            ccxt_errors.InsufficientFunds("poor"),
            PLACE,
            errors.InsufficientFunds,
            id="insufficient",
        ),
        pytest.param(
            ccxt_errors.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'),
            PLACE,
            errors.DuplicateClientOrderId,
            id="binance_duplicate_text",
        ),
        pytest.param(
            ccxt_errors.DuplicateOrderId("dup"),
            PLACE,
            errors.DuplicateClientOrderId,
            id="ccxt_duplicate_class",
        ),
        pytest.param(
            ccxt_errors.OperationRejected('{"code":-2011,"msg":"Unknown order sent."}'),
            CANCEL,
            errors.OrderNotFound,
            id="binance_spot_cancel_unknown",
        ),
        pytest.param(
            ccxt_errors.OrderNotFound("-2013"), READ, errors.OrderNotFound, id="lookup_unknown"
        ),
        pytest.param(
            ccxt_errors.BadRequest("Filter failure: NOTIONAL"),
            PLACE,
            errors.OrderRejected,
            id="filter_failure",
        ),
        pytest.param(
            ccxt_errors.BadSymbol("nope"), READ, errors.ExchangeError, id="bad_symbol_read"
        ),
        pytest.param(
            ccxt_errors.NotSupported("x"), READ, errors.ExchangeConfigError, id="not_supported"
        ),
        pytest.param(
            TypeError("parse crash"),
            PLACE,
            errors.OrderOutcomeUnknown,
            id="crash_after_sending_is_unknown",
        ),
    ],
)
def test_translation_by_action(
    exc: BaseException, action: Action, expected: type[errors.ExchangeError]
) -> None:
    translated = translate_error(exc, action, BINANCE, "qtbot-x")
    assert type(translated) is expected
    assert translated.client_order_id == "qtbot-x"
    assert "binance" in translated.reason


def test_truncated_payload_wrapped_by_ccxt_counts_as_transport_failure() -> None:
    wrapped = ccxt_errors.ExchangeError("binance POST /order")
    wrapped.__cause__ = aiohttp.ClientPayloadError("truncated")
    assert isinstance(translate_error(wrapped, PLACE, BINANCE), errors.OrderOutcomeUnknown)


def test_rate_limit_keeps_the_retry_after_hint() -> None:
    translated = translate_error(VenueThrottled("429", 7.0), READ, BINANCE)
    assert isinstance(translated, errors.RateLimited)
    assert translated.retry_after == 7.0


NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"Retry-After": "5"}, 5.0, id="seconds"),
        pytest.param({"retry-after": "0.5"}, 0.5, id="lowercase_fraction"),
        pytest.param({"Retry-After": "Mon, 01 Dec 2025 12:00:30 GMT"}, 30.0, id="http_date"),
        pytest.param({"Retry-After": "soon"}, None, id="unreadable"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, NOW) == expected


POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=4.0)


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [
        pytest.param(1, None, 0.5, id="first"),
        pytest.param(3, None, 2.0, id="doubles"),
        pytest.param(5, None, 4.0, id="capped"),
        pytest.param(1, 3.0, 3.0, id="retry_after_wins"),
        pytest.param(3, 1.0, 2.0, id="backoff_wins"),
    ],
)
def test_backoff_delay(attempt: int, retry_after: float | None, expected: float) -> None:
    assert backoff_delay(POLICY, attempt, retry_after) == expected


def test_retry_read_does_not_retry_non_retryable_errors() -> None:
    attempts = []

    async def operation() -> None:
        attempts.append(1)
        raise errors.OrderNotFound("gone")

    async def no_sleep(seconds: float) -> None:
        raise AssertionError("must not sleep")

    with pytest.raises(errors.OrderNotFound):
        asyncio.run(retry_read(operation, policy=POLICY, sleep=no_sleep, what="t"))
    assert attempts == [1]
