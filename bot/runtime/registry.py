"""Scheduled jobs: plain functions `job(ctx, now)`; APScheduler only decides when they run.

The backtest and `qtbot run --once` call the very same functions with their own `now`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.runtime.systemd import notify
from bot.services.context import Context

log = structlog.get_logger("bot.runtime.registry")

JobFunction = Callable[[Context, datetime], Awaitable[None] | None]


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    interval_seconds: float


def write_heartbeat(ctx: Context, now: datetime, stopped: bool = False) -> None:
    settings = ctx.settings
    ctx.store.beat(
        ctx.name,
        now,
        pid=os.getpid(),
        host=socket.gethostname(),
        mode=settings.exchange.mode,
        exchange=settings.exchange.id,
        started_at=ctx.started_at,
        stopped=stopped,
    )


def heartbeat(ctx: Context, now: datetime) -> None:
    """Prove liveness: a heartbeat row `qtbot status` can age, a log line, the systemd watchdog."""
    settings = ctx.settings
    write_heartbeat(ctx, now)
    notify("WATCHDOG=1")
    log.info("heartbeat", mode=settings.exchange.mode, exchange=settings.exchange.id)


def registered_jobs(ctx: Context) -> list[JobSpec]:
    """Every job the daemon schedules, in the order `run --once` executes them.

    Reconcile comes first: the daemon also runs it before scheduling anything, so no decision
    is taken on a store that disagrees with the venue. Signals come before the decisions that
    read them.
    """
    from bot.feeds import live as signal_jobs
    from bot.jobs import risk_check as trading_jobs

    settings = ctx.settings
    jobs: list[JobSpec] = []
    if "orders" in ctx.services:
        jobs.append(
            JobSpec("reconcile", trading_jobs.reconcile, settings.daemon.reconcile_minutes * 60)
        )
    jobs.append(JobSpec("heartbeat", heartbeat, settings.daemon.heartbeat_seconds))
    if "signals" in ctx.services:
        jobs.append(
            JobSpec(
                "regime_refresh",
                signal_jobs.regime_refresh,
                settings.signals.regime_refresh_hours * 3600,
            )
        )
        if settings.signals.liquidation_feeds != "none":
            jobs.append(
                JobSpec(
                    "liquidation_check",
                    signal_jobs.liquidation_check,
                    settings.signals.liquidation_check_seconds,
                )
            )
    if "orders" in ctx.services:
        if settings.exchange.mode == "paper":
            jobs.append(
                JobSpec(
                    "paper_match", trading_jobs.paper_match, settings.exchange.paper_match_seconds
                )
            )
        jobs.append(JobSpec("risk_check", trading_jobs.risk_check, settings.risk.check_seconds))
        if "signals" in ctx.services:
            from bot.jobs.entry.job import entry_job

            jobs.append(JobSpec("entry", entry_job, settings.strategy.entry_check_minutes * 60))
    return jobs
