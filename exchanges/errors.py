"""The single translation target for venue errors.

Every adapter (paper, ccxt) raises only these. Callers decide by class:

- `RetryableError` (and `RateLimited`): nothing happened at the venue; retry with backoff.
- `OrderOutcomeUnknown`: an order *may* have reached the venue; look it up by client order id
  before any retry, never resend blindly.
- `OrderRejected` (and `InsufficientFunds`, `DuplicateClientOrderId`): the venue said no;
  retrying the same request cannot help.
- `OrderNotFound`, `AuthenticationFailed`, `ExchangeConfigError`: not retried either.

Stop orders add three (see `exchanges.stops`):

- `StopWouldTrigger` (an `OrderRejected`): the market is already at or through the trigger.
- `StopTriggered`: `replace_stop` refused to touch a stop that has triggered or partly filled.
- `StopReplaceFailed`: `replace_stop` broke off; `protected` says whether a stop is resting.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every venue error; `reason` is a human-readable sentence for logs and journals."""

    def __init__(self, reason: str, *, client_order_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.client_order_id = client_order_id


class RetryableError(ExchangeError):
    """Network error, 5xx, maintenance: the request had no effect and may be retried.

    `retry_after` is the venue's hint in seconds, when it gave one.
    """

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        client_order_id: str | None = None,
    ) -> None:
        super().__init__(reason, client_order_id=client_order_id)
        self.retry_after = retry_after


class MalformedReply(RetryableError):
    """The venue answered without a field that cannot be guessed (a trade's amount, an order's
    status, a balance): the reply is refused, never filled in with zeros; read it again."""


class RateLimited(RetryableError):
    """HTTP 429/418 or a venue rate-limit code; `retry_after` from the Retry-After header."""


class OrderOutcomeUnknown(ExchangeError):
    """Timeout or dropped connection after an order was sent.

    The order may or may not exist: fetch it by `client_order_id` before any retry.
    """


class OrderRejected(ExchangeError):
    """Invalid order, precision or limit violation, unknown symbol: never retried."""


class InsufficientFunds(OrderRejected):
    """Not enough free balance to reserve for the order."""


class DuplicateClientOrderId(OrderRejected):
    """The venue already knows an order with this client order id."""


class OrderNotFound(ExchangeError):
    """Cancel or lookup of an order the venue does not know (or no longer lists)."""


class AuthenticationFailed(ExchangeError):
    """Missing, wrong or expired API credentials, or insufficient key permissions."""


class ExchangeConfigError(ExchangeError):
    """Configuration the adapter cannot work with, e.g. "kraken has no testnet"."""


class StopWouldTrigger(OrderRejected):
    """A stop whose trigger the market has already reached (a sell stop at or above the best
    bid): venues refuse it ("Stop price would trigger immediately"). Nothing was placed."""


class StopTriggered(ExchangeError):
    """`replace_stop` found the old stop triggered or partly filled: it is executing, so it was
    left alone and nothing new was placed. Sync fills; cancel it explicitly if it must go."""


class StopReplaceFailed(ExchangeError):
    """`replace_stop` broke off part-way. `protected` tells what is resting now:

    - True: the old stop is still resting, unchanged (nothing was replaced);
    - False: no stop is resting (the old one is gone, the new one was not placed): the position
      is unprotected until the caller places a stop or sells;
    - None: unknown (the venue did not answer): look up both client order ids.
    """

    def __init__(
        self,
        reason: str,
        *,
        protected: bool | None,
        old_client_order_id: str,
        new_client_order_id: str,
    ) -> None:
        super().__init__(reason, client_order_id=new_client_order_id)
        self.protected = protected
        self.old_client_order_id = old_client_order_id
        self.new_client_order_id = new_client_order_id


__all__ = [
    "AuthenticationFailed",
    "DuplicateClientOrderId",
    "ExchangeConfigError",
    "ExchangeError",
    "InsufficientFunds",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "RateLimited",
    "RetryableError",
    "StopReplaceFailed",
    "StopTriggered",
    "StopWouldTrigger",
]
