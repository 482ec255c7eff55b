"""The daemon: an AsyncIOScheduler around the registered jobs, clean stop on SIGTERM/SIGINT.

APScheduler decides *when* a job runs (coalesced, one instance at a time, with a misfire grace);
the job itself gets `now` from the injected clock, so an accelerated clock only shortens the
wall-time intervals.  A failing job is logged and journaled, never fatal to the daemon.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime.systemd import notify
from bot.services.context import JobContext, JobSpec

log = structlog.get_logger("bot.runtime.daemon")

# An accelerated clock shrinks intervals; below this the scheduler would only thrash.
MIN_WALL_INTERVAL_SECONDS = 0.2

# How long a stop waits for running jobs before giving up on them.
STOP_TIMEOUT_SECONDS = 30.0

# A long-running service (e.g. a websocket feed) that returns once its event is set.
Background = Callable[[asyncio.Event], Awaitable[None]]


class SchedulerLog(logging.LoggerAdapter[logging.Logger]):
    """APScheduler's logger for one daemon. Under an accelerated clock (`count_skips`) jobs
    routinely outlast their shrunken intervals and APScheduler would warn "skipped: maximum
    number of running instances" on nearly every tick: those are counted, not logged. In real
    time a skipped run means a job overran its interval, and the warning stays. An adapter, not
    a filter on the shared logger, so nothing outlives this daemon."""

    def __init__(self, count_skips: bool) -> None:
        super().__init__(logging.getLogger("apscheduler.scheduler"), {})
        self.count_skips = count_skips
        self.skipped = 0

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.count_skips and "maximum number of running instances" in str(msg):
            self.skipped += 1
            return
        super().log(level, msg, *args, **kwargs)


class Daemon:
    def __init__(
        self,
        ctx: JobContext,
        jobs: list[JobSpec],
        clock_speed: float = 1.0,
        background: list[Background] | None = None,
    ) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.background = background or []
        self.clock_speed = clock_speed
        self.failures: dict[str, int] = {}
        self.runs: dict[str, int] = {}
        self.skipped_runs = 0  # runs APScheduler skipped under an accelerated clock (not logged)
        self._running: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()

    async def run_job(self, spec: JobSpec) -> bool:
        """Run one job with the clock's `now`; returns False if it raised (already logged)."""
        now = self.ctx.clock.now()
        try:
            result = spec.function(self.ctx, now)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            count = self.failures.get(spec.name, 0) + 1
            self.failures[spec.name] = count
            log.error("job_failed", job=spec.name, failures_in_a_row=count, exc_info=True)
            # Journal the first failure and then every tenth, so a stuck job cannot flood the store.
            if count == 1 or count % 10 == 0:
                try:
                    self.ctx.store.journal(
                        now,
                        "job_failed",
                        f"{spec.name} failed: {exc}",
                        level="error",
                        job=spec.name,
                        failures_in_a_row=count,
                    )
                except Exception:
                    log.error("journal_write_failed", job=spec.name, exc_info=True)
            return False
        self.failures[spec.name] = 0
        self.runs[spec.name] = self.runs.get(spec.name, 0) + 1
        return True

    async def _scheduled(self, spec: JobSpec) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            await self.run_job(spec)
        finally:
            self._running.discard(task)

    async def run_once(self) -> bool:
        """Every registered job once, in order; True when all succeeded."""
        results = [await self.run_job(spec) for spec in self.jobs]
        return all(results)

    async def _supervised(self, service: Background, stop: asyncio.Event) -> None:
        """A background service that dies is logged and journaled; trading goes on."""
        try:
            await service(stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("background_service_failed", service=repr(service), exc_info=True)
            self.ctx.store.journal(
                self.ctx.clock.now(),
                "job_failed",
                f"background service stopped: {exc}",
                level="error",
            )

    def request_stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            log.info("daemon_stopping", reason=reason)
        self._stop.set()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, signal.Signals(sig).name)
        misfire = self.ctx.settings.daemon.misfire_grace_seconds
        scheduler_log = SchedulerLog(count_skips=self.clock_speed > 1)
        scheduler = AsyncIOScheduler(
            logger=scheduler_log,
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(misfire / self.clock_speed)),
            },
        )
        start = datetime.now(UTC)
        for spec in self.jobs:
            scheduler.add_job(
                self._scheduled,
                "interval",
                args=[spec],
                id=spec.name,
                name=spec.name,
                seconds=max(MIN_WALL_INTERVAL_SECONDS, spec.interval_seconds / self.clock_speed),
                # Run each job at start-up, not one interval later.
                next_run_time=start + timedelta(milliseconds=10),
            )
        scheduler.start()
        background_stop = asyncio.Event()
        services = [
            asyncio.create_task(self._supervised(b, background_stop)) for b in self.background
        ]
        notify("READY=1")
        log.info(
            "daemon_started",
            jobs=[s.name for s in self.jobs],
            clock_speed=self.clock_speed,
            mode=self.ctx.settings.exchange.mode,
            exchange=self.ctx.settings.exchange.id,
        )
        try:
            await self._stop.wait()
        finally:
            notify("STOPPING=1")
            scheduler.shutdown(wait=False)
            background_stop.set()
            if services:
                _, late = await asyncio.wait(services, timeout=STOP_TIMEOUT_SECONDS)
                for task in late:
                    task.cancel()
            # AsyncIOScheduler cannot wait for coroutine jobs itself: let running ones finish.
            if self._running:
                _, pending = await asyncio.wait(set(self._running), timeout=STOP_TIMEOUT_SECONDS)
                for task in pending:
                    log.warning("job_cancelled_at_stop", task=task.get_name())
                    task.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.skipped_runs = scheduler_log.skipped
            if scheduler_log.skipped:
                log.info(
                    "scheduler_runs_skipped",
                    count=scheduler_log.skipped,
                    clock_speed=self.clock_speed,
                )
