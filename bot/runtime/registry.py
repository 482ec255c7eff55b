"""Every job the daemon schedules: plain functions `job(ctx, now)`.

APScheduler only decides when they run; the backtest and `qtbot run --once` call the very same
functions with their own `now`.
"""

from __future__ import annotations

from datetime import datetime

from bot.jobs.entry.job import entry_job
from bot.jobs.heartbeat import heartbeat
from bot.jobs.risk_check import risk_check
from bot.jobs.signals import liquidation_check, regime_refresh
from bot.jobs.venue import paper_match, reconcile
from bot.runtime.systemd import notify
from bot.services.context import JobContext, JobSpec


def heartbeat_and_watchdog(ctx: JobContext, now: datetime) -> None:
    """The heartbeat row and log line, then systemd's watchdog ping (`WatchdogSec`)."""
    heartbeat(ctx, now)
    notify("WATCHDOG=1")


def registered_jobs(ctx: JobContext) -> list[JobSpec]:
    """Every job the daemon schedules, in the order `run --once` executes them.

    Reconcile comes first: the daemon also runs it before scheduling anything, so no decision
    is taken on a store that disagrees with the venue. Signals come before the decisions that
    read them.
    """
    settings = ctx.settings
    jobs = [
        JobSpec("reconcile", reconcile, settings.daemon.reconcile_minutes * 60),
        JobSpec("heartbeat", heartbeat_and_watchdog, settings.daemon.heartbeat_seconds),
    ]
    if ctx.services.signals is not None:
        refresh_seconds = settings.signals.regime_refresh_hours * 3600
        jobs.append(JobSpec("regime_refresh", regime_refresh, refresh_seconds))
        if settings.signals.liquidation_feeds != "none":
            check_seconds = settings.signals.liquidation_check_seconds
            jobs.append(JobSpec("liquidation_check", liquidation_check, check_seconds))
    if settings.exchange.mode == "paper":
        jobs.append(JobSpec("paper_match", paper_match, settings.exchange.paper_match_seconds))
    jobs.append(JobSpec("risk_check", risk_check, settings.risk.check_seconds))
    if ctx.services.signals is not None:
        jobs.append(JobSpec("entry", entry_job, settings.strategy.entry_check_minutes * 60))
    return jobs
