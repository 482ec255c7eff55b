"""Per-client limits of the control API: requests per minute, and a stricter budget of failed
authentications per hour after which the client is locked out (even with the right token) until
its oldest failure leaves the hour.

Times are monotonic seconds passed in by the caller, so tests need no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

REQUEST_WINDOW_SECONDS = 60.0
FAILURE_WINDOW_SECONDS = 3600.0
# Bounds the memory a flood of spoofed clients can take; the oldest entries go first.
MAX_CLIENTS = 10_000


def _slide(times: deque[float], now: float, window: float) -> None:
    while times and times[0] <= now - window:
        times.popleft()


@dataclass
class ClientLimiter:
    requests_per_minute: int
    failures_per_hour: int
    _requests: dict[str, deque[float]] = field(default_factory=dict)
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _times(self, table: dict[str, deque[float]], client: str) -> deque[float]:
        times = table.get(client)
        if times is None:
            if len(table) >= MAX_CLIENTS:
                del table[next(iter(table))]
            times = table[client] = deque()
        return times

    def locked_out_for(self, client: str, now: float) -> float | None:
        """Seconds until `client` may try again after too many failed authentications."""
        times = self._failures.get(client)
        if not times:
            return None
        _slide(times, now, FAILURE_WINDOW_SECONDS)
        if len(times) < self.failures_per_hour:
            return None
        return max(times[0] + FAILURE_WINDOW_SECONDS - now, 1.0)

    def record_failure(self, client: str, now: float) -> None:
        times = self._times(self._failures, client)
        _slide(times, now, FAILURE_WINDOW_SECONDS)
        times.append(now)

    def take_request(self, client: str, now: float) -> float | None:
        """Count one authenticated request; seconds to wait instead when over the budget."""
        times = self._times(self._requests, client)
        _slide(times, now, REQUEST_WINDOW_SECONDS)
        if len(times) >= self.requests_per_minute:
            return max(times[0] + REQUEST_WINDOW_SECONDS - now, 1.0)
        times.append(now)
        return None
