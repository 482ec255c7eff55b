"""Sliding-window rate limits for notifications: one budget per kind and one for all kinds.

Time is a monotonic number of seconds passed in by the caller, so the limiter is exact and
testable without a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimits:
    """At most `per_kind` messages of one kind and `total` of all kinds per `window_seconds`."""

    per_kind: int = 20
    total: int = 60
    window_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.per_kind < 1 or self.total < 1 or self.window_seconds <= 0:
            raise ValueError("rate limits must be positive")


class RateLimiter:
    """`allow(kind, now)` says whether a message may go out now, and records it if so.

    `bypass_total` lets a critical message past a spent global budget (it still counts toward
    it and still obeys its own per-kind budget). Suppressed messages are counted per kind so
    the next delivered one can say how many were held back.
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._sent: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._suppressed: dict[str, int] = {}

    def _expire(self, times: deque[float], now: float) -> None:
        horizon = now - self.limits.window_seconds
        while times and times[0] <= horizon:
            times.popleft()

    def allow(self, kind: str, now: float, *, bypass_total: bool = False) -> bool:
        mine = self._sent.setdefault(kind, deque())
        self._expire(mine, now)
        self._expire(self._all, now)
        within_kind = len(mine) < self.limits.per_kind
        within_total = len(self._all) < self.limits.total or bypass_total
        if not (within_kind and within_total):
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        mine.append(now)
        self._all.append(now)
        return True

    def take_suppressed(self, kind: str) -> int:
        """How many messages of `kind` were held back since the last call (then reset)."""
        return self._suppressed.pop(kind, 0)
