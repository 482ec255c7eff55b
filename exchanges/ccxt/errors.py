"""The one place ccxt errors become `exchanges.errors` types.

`install_response_hooks` sharpens what ccxt sees on the wire before its own error mapping:
HTTP 418/429 carry the Retry-After hint, any 5xx is "venue unavailable" whatever its body, and a
2xx body that is not JSON is a `BadResponse` instead of a string parsed into an empty order.
`translate` then maps by *action*, because the same failure means different things:

| ccxt failure                             | read           | place               | cancel        |
|------------------------------------------|----------------|---------------------|---------------|
| RateLimitExceeded / DDoSProtection       | RateLimited    | RateLimited         | RateLimited   |
| InvalidNonce (clock outside recvWindow)  | RetryableError | RetryableError      | RetryableError|
| timeout, dropped connection, 5xx, garble | RetryableError | OrderOutcomeUnknown | RetryableError|
| AuthenticationError / PermissionDenied   | AuthenticationFailed (all)                           |
| InsufficientFunds                        | InsufficientFunds (all)                              |
| DuplicateOrderId or venue duplicate text | DuplicateClientOrderId (all)                         |
| OrderNotFound or venue "unknown order"   | OrderNotFound (all)                                  |
| OrderImmediatelyFillable ("stop price   | ExchangeError  | StopWouldTrigger    | OrderRejected |
|   would trigger immediately")           |                |                     |               |
| any other venue "no" (InvalidOrder, ...) | ExchangeError  | OrderRejected       | OrderRejected |

Throttling refuses a request before it is processed, so even a placement is known not to have
happened; a timeout or a 5xx after sending is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]  # ccxt ships no stubs
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]  # ccxt ships no stubs

from exchanges.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeConfigError,
    ExchangeError,
    InsufficientFunds,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    RetryableError,
    StopWouldTrigger,
)
from exchanges.venues import VenueSpec

MAX_REASON = 300


class Action(StrEnum):
    READ = "read"
    PLACE = "place"
    CANCEL = "cancel"


# Both subclass ccxt's errors, which carry no types (disallow_subclassing_any).
class VenueThrottled(ccxt_errors.RateLimitExceeded):  # type: ignore[misc]
    """HTTP 418/429, with the Retry-After hint in seconds."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VenueUnavailable(ccxt_errors.ExchangeNotAvailable):  # type: ignore[misc]
    """HTTP 5xx: the venue failed; whether it acted on the request is unknown."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(headers: Mapping[str, str] | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None when absent/unreadable."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def install_response_hooks(client: ccxt_async.Exchange, clock: Callable[[], datetime]) -> None:
    """Wrap this client's `handle_errors` (ccxt calls it with every raw HTTP response)."""
    original = client.handle_errors

    def handle_errors(
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Mapping[str, str],
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        summary = f"{client.id} {method} {url} {code} {reason} {(body or '')[:200]}"
        if code in (418, 429):
            raise VenueThrottled(summary, parse_retry_after(headers, clock()))
        if code >= 500:
            raise VenueUnavailable(summary, parse_retry_after(headers, clock()))
        if 200 <= code < 300 and body and response is None:
            raise ccxt_errors.BadResponse(f"malformed JSON from {summary}")
        return original(
            code, reason, url, method, headers, body, response, request_headers, request_body
        )

    client.handle_errors = handle_errors


_TRANSPORT = (
    ccxt_errors.NetworkError,
    ccxt_errors.BadResponse,
    ccxt_errors.OperationFailed,
    TimeoutError,
    aiohttp.ClientError,
    OSError,
)


def _is_transport_failure(exc: BaseException) -> bool:
    # ccxt wraps aiohttp.ClientError (e.g. a truncated payload) in a plain ExchangeError.
    return isinstance(exc, _TRANSPORT) or isinstance(exc.__cause__, aiohttp.ClientError)


def _mentions(message: str, markers: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(m.lower() in lowered for m in markers)


def translate(
    exc: BaseException,
    action: Action,
    venue: VenueSpec,
    client_order_id: str | None = None,
) -> ExchangeError:
    """The `exchanges.errors` equivalent of a ccxt (or transport) exception."""
    if isinstance(exc, ExchangeError):
        return exc
    message = str(exc)
    reason = f"{venue.exchange_id} {action}: {type(exc).__name__}: {message}"[:MAX_REASON]
    retry_after: float | None = getattr(exc, "retry_after", None)
    cid = client_order_id
    if isinstance(exc, ccxt_errors.RateLimitExceeded | ccxt_errors.DDoSProtection):
        return RateLimited(reason, retry_after=retry_after, client_order_id=cid)
    if isinstance(exc, ccxt_errors.InvalidNonce):
        return RetryableError(f"clock outside the venue's window: {reason}", client_order_id=cid)
    if _is_transport_failure(exc):
        if action is Action.PLACE:
            return OrderOutcomeUnknown(reason, client_order_id=cid)
        return RetryableError(reason, retry_after=retry_after, client_order_id=cid)
    if isinstance(exc, ccxt_errors.AuthenticationError):
        return AuthenticationFailed(reason, client_order_id=cid)
    if isinstance(exc, ccxt_errors.InsufficientFunds):
        return InsufficientFunds(reason, client_order_id=cid)
    if isinstance(exc, ccxt_errors.DuplicateOrderId) or _mentions(message, venue.duplicate_markers):
        return DuplicateClientOrderId(reason, client_order_id=cid)
    if isinstance(exc, ccxt_errors.OrderNotFound) or _mentions(
        message, venue.order_not_found_markers
    ):
        return OrderNotFound(reason, client_order_id=cid)
    if isinstance(exc, ccxt_errors.NotSupported):
        return ExchangeConfigError(reason, client_order_id=cid)
    if action is Action.PLACE and isinstance(exc, ccxt_errors.OrderImmediatelyFillable):
        return StopWouldTrigger(reason, client_order_id=cid)
    if action is not Action.READ and isinstance(exc, ccxt_errors.ExchangeError):
        return OrderRejected(reason, client_order_id=cid)
    if action is Action.PLACE:
        # Not a venue answer we recognise (e.g. a parse crash after sending): assume it may exist.
        return OrderOutcomeUnknown(reason, client_order_id=cid)
    return ExchangeError(reason, client_order_id=cid)
