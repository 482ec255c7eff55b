"""The daemon: an AsyncIOScheduler around the registered jobs, clean stop on SIGTERM/SIGINT.

APScheduler decides *when* a job runs (coalesced, one instance at a time, with a misfire grace);
the job itself gets `now` from the injected clock, so an accelerated clock only shortens the
wall-time intervals.  A failing job is logged and journaled, never fatal to the daemon, except
when the store cannot be written: see `bot.runtime.store_watch`.

Stopping (SIGTERM, SIGINT or `request_stop`): no new job run starts; running jobs get
`QTBOT_DAEMON__STOP_GRACE_SECONDS` to finish, then are cancelled (a second signal cancels them
at once). A cancelled job inside an order send still waits for the venue's answer to be
recorded (`bot.execution.uninterrupted`), so a stop never leaves a send half done.
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

from bot.runtime.store_watch import StoreWatch, storage_failure
from bot.runtime.systemd import notify
from bot.services.context import JobContext, JobSpec

log = structlog.get_logger("bot.runtime.daemon")

# An accelerated clock shrinks intervals; below this the scheduler would only thrash.
MIN_WALL_INTERVAL_SECONDS = 0.2

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
        store_watch: StoreWatch | None = None,
        on_store_unwritable: Callable[[str], None] | None = None,
    ) -> None:
        daemon = ctx.settings.daemon
        self.ctx = ctx
        self.jobs = jobs
        self.background = background or []
        self.clock_speed = clock_speed
        self.stop_grace_seconds = daemon.stop_grace_seconds
        self.failures: dict[str, int] = {}
        self.runs: dict[str, int] = {}
        self.skipped_runs = 0  # runs APScheduler skipped under an accelerated clock (not logged)
        self.store_watch = store_watch or StoreWatch(daemon.store_failure_limit)
        self.store_unwritable: str | None = None  # why the daemon gave up on the store
        self._on_store_unwritable = on_store_unwritable
        self._running: dict[asyncio.Task[None], str] = {}
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        self._signals = 0

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
            detail = storage_failure(exc)
            if detail is not None:
                self._store_write_failed(spec.name, count, detail)
                return False  # the journal would fail the same way
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
        self.store_watch.succeeded(spec.name)
        return True

    def _store_write_failed(self, job: str, count: int, detail: str) -> None:
        # A known condition with its own message: no stack trace per run.
        log.error("job_failed", job=job, failures_in_a_row=count, store_unwritable=detail)
        if not self.store_watch.failed(job, detail) or self.store_unwritable is not None:
            return
        self.store_unwritable = detail
        log.critical(
            "store_unwritable",
            error=detail,
            job_runs_in_a_row=self.store_watch.in_a_row,
            by_job=self.store_watch.by_job,
            action="stopping: free space and restart",
        )
        if self._on_store_unwritable is not None:
            try:
                self._on_store_unwritable(detail)
            except Exception:
                log.error("store_unwritable_notify_failed", exc_info=True)
        self.request_stop("store_unwritable")

    async def run_scheduled(self, spec: JobSpec) -> None:
        """What APScheduler runs: one job run, unless the daemon is stopping."""
        if self._stop.is_set():
            return
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = spec.name
        try:
            await self.run_job(spec)
        except asyncio.CancelledError:
            # Cancelled at stop (logged there); ending quietly keeps APScheduler from logging
            # a stack trace for it.
            return
        finally:
            self._running.pop(task, None)

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
            try:
                self.ctx.store.journal(
                    self.ctx.clock.now(),
                    "job_failed",
                    f"background service stopped: {exc}",
                    level="error",
                )
            except Exception as journal_error:
                log.error("journal_write_failed", error=str(journal_error))

    def request_stop(self, reason: str = "requested") -> None:
        """Stop: no new job run starts; running ones get the grace period."""
        if not self._stop.is_set():
            log.info("daemon_stopping", reason=reason, grace_seconds=self.stop_grace_seconds)
        self._stop.set()

    def _on_signal(self, name: str) -> None:
        self._signals += 1
        if self._signals == 1:
            self.request_stop(name)
        elif not self._hurry.is_set():
            # The operator insists: cancel now; order sends still end with their answer recorded.
            log.warning("daemon_stop_hurried", signal=name, running=sorted(self._running.values()))
            self._hurry.set()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, signal.Signals(sig).name)
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
                self.run_scheduled,
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
            # No new run starts (run_scheduled refuses too); shutdown(wait=False) would cancel
            # the running ones, so it waits until they are done.
            scheduler.pause()
            background_stop.set()
            try:
                await self._finish_running(services)
            finally:
                scheduler.shutdown(wait=False)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            self.skipped_runs = scheduler_log.skipped
            if scheduler_log.skipped:
                log.info(
                    "scheduler_runs_skipped",
                    count=scheduler_log.skipped,
                    clock_speed=self.clock_speed,
                )

    async def _finish_running(self, services: list[asyncio.Task[None]]) -> None:
        """Let running jobs and background services end within the grace period (or until a
        second signal), then cancel what is left and wait for it to unwind."""
        tasks: dict[asyncio.Task[None], str] = {
            **{task: f"background:{index}" for index, task in enumerate(services)},
            **self._running,
        }
        if not tasks:
            return
        log.info(
            "daemon_waiting_for_jobs",
            jobs=sorted(self._running.values()),
            grace_seconds=self.stop_grace_seconds,
        )
        all_done = asyncio.ensure_future(asyncio.wait(set(tasks)))
        hurried = asyncio.ensure_future(self._hurry.wait())
        await asyncio.wait(
            {all_done, hurried},
            timeout=self.stop_grace_seconds,
            return_when=asyncio.FIRST_COMPLETED,
        )
        all_done.cancel()  # only the waiting: `asyncio.wait` never cancels what it waits for
        hurried.cancel()
        late = [task for task in tasks if not task.done()]
        for task in late:
            log.warning(
                "job_cancelled_at_stop",
                job=tasks[task],
                grace_seconds=self.stop_grace_seconds,
                hurried=self._hurry.is_set(),
            )
            task.cancel()
        if late:
            # Bounded by the venue's timeout: a job inside an order send ends once its answer
            # is recorded.
            await asyncio.wait(late)
