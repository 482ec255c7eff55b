"""One clock for live, paper and backtest: decision code takes `now`; only clocks read time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock the caller moves: backtests, tests and the accelerated paper run."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("time does not run backwards")
        self._now = when


class AcceleratedClock:
    """Simulated time running `speed` times faster than the wall clock.

    Simulated time is `start + (wall - anchor) * speed`. With an explicit `anchor` (a wall
    time) it is the same function of the wall clock in every process, so a daemon that is
    killed and restarted continues the same simulated timeline; without one, it starts at
    `start` when the clock is created.
    """

    def __init__(self, start: datetime, speed: float, anchor: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._anchor = (anchor or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._anchor
        return self._start + elapsed * self._speed
