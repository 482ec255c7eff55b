"""Running the bot: settings -> logging, lock, clock, the composed context, jobs, daemon.

`qtbot run` and `qtbot panic` start here; the parts are wired in `bot.runtime.compose`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from bot.config.notify import NotificationKind, parse_kinds
from bot.config.settings import Settings, public_view, secret_values
from bot.feeds.live import build_watcher
from bot.jobs.heartbeat import write_heartbeat
from bot.jobs.panic import panic
from bot.ops.notify.events import NotificationEvent, Severity
from bot.ops.web.operations import Operations
from bot.runtime.credentials import check_credentials
from bot.runtime.daemon import Daemon
from bot.runtime.lock import AlreadyRunning, InstanceLock
from bot.runtime.logs import configure_logging
from bot.runtime.registry import registered_jobs
from bot.runtime.store_watch import StoreUnwritable, StoreWatch, storage_failure
from bot.runtime.venue import DaemonParts, open_daemon
from bot.services.clock import AcceleratedClock, Clock, SystemClock
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from exchanges.stops import capabilities_of

log = structlog.get_logger("bot.runtime.app")


class StartupError(Exception):
    """The daemon cannot start as configured; the message says what to change."""


def setup_logging(settings: Settings) -> None:
    configure_logging(settings.log.level, settings.log.format, secret_values(settings))


def make_clock(settings: Settings) -> Clock:
    daemon = settings.daemon
    if daemon.clock_speed == 1.0 and daemon.clock_start is None:
        return SystemClock()
    if daemon.clock_start is None:
        return AcceleratedClock(datetime.now(UTC), daemon.clock_speed)
    start = datetime.fromisoformat(daemon.clock_start).astimezone(UTC)
    # Anchored at the same instant: restarts continue one simulated timeline.
    return AcceleratedClock(start, daemon.clock_speed, anchor=start)


def run_panic(settings: Settings) -> list[str]:
    """Flatten now if no daemon runs; otherwise ask the running daemon to (returns the plan)."""
    lock = InstanceLock(settings.effective_database_url)
    try:
        lock.acquire()
    except AlreadyRunning:
        store = Store.open(settings.effective_database_url)
        try:
            now = datetime.now(UTC)
            store.set_risk_off(True, now, "panic requested: new entries stopped")
            RuntimeState(store).set_panic_requested(True, now)
        finally:
            store.close()
        return [
            "the running daemon will cancel all orders and sell everything at its next risk "
            f"check (within {settings.risk.check_seconds}s); watch `qtbot status`"
        ]
    try:
        # An emergency sale reads no signal: a damaged calendar must not stop it.
        parts = open_daemon(settings, make_clock(settings), with_signals=False)
        ctx = parts.ctx

        async def flatten() -> list[str]:
            try:
                # A refused key would otherwise read as "nothing to do".
                await check_credentials(parts)
                await ctx.services.orders.reconcile(ctx.clock.now())
                return await panic(ctx, ctx.clock.now())
            finally:
                await parts.close_venue()

        try:
            return asyncio.run(flatten())
        finally:
            ctx.store.close()
    finally:
        lock.release()


def run_daemon(settings: Settings, once: bool = False) -> int:
    """Run until SIGTERM/SIGINT (or one pass with `once`); returns the process exit status.
    Raises StoreUnwritable when the database could not be written (disk full, read-only)."""
    lock = InstanceLock(settings.effective_database_url)
    lock.acquire()
    try:
        parts = open_daemon(settings, make_clock(settings))
        try:
            return asyncio.run(_run(parts, once))
        except Exception as exc:
            # A write that failed outside any job (the start-up journal entry, say).
            detail = None if isinstance(exc, StoreUnwritable) else storage_failure(exc)
            if detail is None:
                raise
            raise StoreUnwritable(detail) from None
        finally:
            parts.ctx.store.close()
    finally:
        lock.release()


def _warn_without_exchange_stops(ctx: JobContext) -> None:
    if not ctx.settings.risk.exchange_stop:
        return
    caps = capabilities_of(ctx.services.exchange)
    if not caps.stop_orders:
        message = (
            f"{ctx.settings.exchange.id} takes no stop orders through qtbot: positions are "
            "protected only by the daemon's own stop while it runs"
        )
        log.warning("exchange_stop_unsupported", exchange=ctx.settings.exchange.id)
        ctx.store.journal(ctx.started_at, "exchange_stop_unsupported", message, level="warning")


async def _run(parts: DaemonParts, once: bool) -> int:
    await check_credentials(parts)
    ctx = parts.ctx
    settings = ctx.settings
    view = public_view(settings)
    log.info(
        "daemon_starting",
        once=once,
        pid=os.getpid(),
        mode=settings.exchange.mode,
        exchange=settings.exchange.id,
        database=view["database_url"],
    )
    ctx.store.journal(
        ctx.started_at,
        "daemon_started",
        f"qtbot started in {settings.exchange.mode} mode",
        mode=settings.exchange.mode,
        exchange=settings.exchange.id,
        once=once,
    )
    _warn_without_exchange_stops(ctx)
    ops = Operations.for_context(ctx)
    jobs = ops.wrap_jobs(registered_jobs(ctx))
    watcher = None if once else build_watcher(settings, ctx.store)
    daemon = Daemon(
        ctx,
        jobs,
        settings.daemon.clock_speed,
        background=[watcher.run] if watcher else [],
        store_watch=StoreWatch(settings.daemon.store_failure_limit, report=_health_of(ops)),
        on_store_unwritable=lambda detail: _notify_store_unwritable(ops, detail),
    )
    status = 0
    unwritable: str | None = None
    try:
        try:
            await ops.start(serve_http=not once)
        except OSError as exc:
            http = settings.http
            raise StartupError(
                f"cannot serve HTTP on {http.host}:{http.port}: {exc.strerror or exc}; "
                "free the port or set QTBOT_HTTP__PORT (or QTBOT_HTTP__ENABLED=false)"
            ) from None
        if once:
            status = 0 if await daemon.run_once() else 1
        else:
            startup = [spec for spec in jobs if spec.name == "reconcile"]
            for spec in startup:
                await daemon.run_job(spec)
            await daemon.run_forever()
    finally:
        await ops.stop()  # also sends what is queued, e.g. the store_unwritable notification
        await parts.close_venue()
        recorded, failed_write = _record_stop(ctx, daemon.runs)
        unwritable = daemon.store_unwritable or failed_write
        if unwritable is not None or not recorded:
            status = 1
        log.info("daemon_stopped", exit_status=status, runs=daemon.runs)
    if unwritable is not None:
        raise StoreUnwritable(unwritable)
    return status


def _record_stop(ctx: JobContext, runs: dict[str, int]) -> tuple[bool, str | None]:
    """The stopped heartbeat and the journal entry: (written, the storage error if that is why
    not). Nothing raises past here: on a full disk these fail like every write, and the stop
    must still end in one clear line, not a traceback."""
    now = ctx.clock.now()
    try:
        write_heartbeat(ctx, now, stopped=True)
        ctx.store.journal(now, "daemon_stopped", "qtbot stopped", runs=runs)
    except Exception as exc:
        detail = storage_failure(exc)
        if detail is None:
            log.error("stop_not_recorded", exc_info=True)
        else:
            log.error("stop_not_recorded", error=detail)
        return False, detail
    return True, None


def _health_of(ops: Operations) -> Callable[[str | None], None]:
    """Where the store watch reports to: the status server's store check."""

    def report(error: str | None) -> None:
        ops.state.store_write_error = error

    return report


def _notify_store_unwritable(ops: Operations, detail: str) -> None:
    """Straight to the notifier: the journal it usually reads cannot be written."""
    kinds = parse_kinds(ops.ctx.settings.notify.kinds)
    if kinds is not None and NotificationKind.ERROR not in kinds:
        return
    ops.notifier.notify(
        NotificationEvent(
            kind=NotificationKind.ERROR,
            title="the database cannot be written",
            body=f"{detail}. qtbot is stopping (exit 1): free disk space, then restart it.",
            at=ops.ctx.clock.now(),
            severity=Severity.FAILURE,
        )
    )
