"""What the daemon process knows about itself at run time, for /healthz and /metrics.

`track_jobs` wraps the registered jobs so each run records its start, outcome, duration and
lag without touching the daemon; `venue_probe` is a cheap job proving the venue answers.
Times are the bot's clock (`now` handed to the job), durations are measured wall time.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from bot.services.context import JobContext, JobSpec
from exchanges.base import ExchangeAdapter

log = structlog.get_logger("bot.ops.web")

VENUE_PROBE_SECONDS = 60.0


@dataclass
class JobStat:
    interval_seconds: float
    runs: int = 0
    failures: int = 0
    failures_in_a_row: int = 0
    last_start: datetime | None = None
    last_success: datetime | None = None
    last_duration_seconds: float | None = None
    last_lag_seconds: float = 0.0
    errors_by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class OpsState:
    """One per daemon process; shared by the job wrapper, the probe and the HTTP handlers."""

    jobs: dict[str, JobStat] = field(default_factory=dict)
    venue_ok_at: datetime | None = None
    venue_error_at: datetime | None = None
    venue_error: str | None = None
    # Set by the daemon while its jobs fail to write the store (disk full, read-only, I/O error).
    store_write_error: str | None = None

    def job_started(self, name: str, interval_seconds: float, now: datetime) -> None:
        stat = self.jobs.setdefault(name, JobStat(interval_seconds))
        if stat.last_start is not None:
            # How much later than its interval this run started (coalesced misfires show here).
            late = (now - stat.last_start).total_seconds() - interval_seconds
            stat.last_lag_seconds = max(0.0, late)
        stat.last_start = now

    def job_finished(
        self, name: str, now: datetime, duration: float, error: BaseException | None
    ) -> None:
        stat = self.jobs[name]
        stat.last_duration_seconds = duration
        if error is None:
            stat.runs += 1
            stat.failures_in_a_row = 0
            stat.last_success = now
            return
        stat.failures += 1
        stat.failures_in_a_row += 1
        kind = type(error).__name__
        stat.errors_by_type[kind] = stat.errors_by_type.get(kind, 0) + 1

    def venue_ok(self, now: datetime) -> None:
        self.venue_ok_at = now

    def venue_failed(self, now: datetime, error: str) -> None:
        self.venue_error_at, self.venue_error = now, error


def _tracked(spec: JobSpec, state: OpsState, perf: Callable[[], float]) -> JobSpec:
    async def run(ctx: JobContext, now: datetime) -> None:
        state.job_started(spec.name, spec.interval_seconds, now)
        started = perf()
        try:
            result = spec.function(ctx, now)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            state.job_finished(spec.name, now, perf() - started, exc)
            raise
        state.job_finished(spec.name, now, perf() - started, None)

    return JobSpec(spec.name, run, spec.interval_seconds)


def track_jobs(
    jobs: list[JobSpec], state: OpsState, perf: Callable[[], float] = time.perf_counter
) -> list[JobSpec]:
    """The same jobs, each recording its runs in `state` (errors are re-raised unchanged)."""
    return [_tracked(spec, state, perf) for spec in jobs]


@dataclass(frozen=True)
class VenueProbe:
    """A job asking the venue for one ticker; records success or failure, re-raises."""

    state: OpsState
    exchange: ExchangeAdapter
    symbol: str

    async def __call__(self, ctx: JobContext, now: datetime) -> None:
        try:
            await self.exchange.fetch_ticker(self.symbol)
        except Exception as exc:
            self.state.venue_failed(now, f"{type(exc).__name__}: {exc}"[:300])
            raise
        self.state.venue_ok(now)
