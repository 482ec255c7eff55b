"""Capped exponential backoff for reads that failed with a `RetryableError`.

Only reads go through here: order placement is never retried by the adapter (an unknown outcome
is the caller's to resolve by client order id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from exchanges.errors import RetryableError

log = structlog.get_logger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` counts the first try; delays are seconds.

    The n-th retry waits `base_delay * multiplier ** (n - 1)`, at most `max_delay`, and never
    less than the venue's Retry-After. A Retry-After beyond `max_delay` is not waited out: the
    error goes back to the caller, whose scheduler is the right place for long pauses.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    multiplier: float = 2.0


def backoff_delay(policy: RetryPolicy, failed_attempt: int, retry_after: float | None) -> float:
    """Seconds to wait after attempt number `failed_attempt` (1-based) failed."""
    delay = min(policy.max_delay, policy.base_delay * policy.multiplier ** (failed_attempt - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


async def retry_read(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    what: str,
) -> T:
    """Run `operation`, retrying `RetryableError` (incl. `RateLimited`) per `policy`; any other
    error, or the last retryable one, propagates unchanged."""
    attempt = 1
    while True:
        try:
            return await operation()
        except RetryableError as exc:
            if attempt >= policy.max_attempts:
                raise
            delay = backoff_delay(policy, attempt, exc.retry_after)
            if delay > policy.max_delay:
                raise
            log.warning(
                "exchange_read_retry",
                what=what,
                attempt=attempt,
                delay_s=round(delay, 3),
                error=type(exc).__name__,
                reason=exc.reason,
            )
            await sleep(delay)
            attempt += 1
