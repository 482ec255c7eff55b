"""The heartbeat job: a row `qtbot status` and /healthz can age, and a log line."""

from __future__ import annotations

import os
import socket
from datetime import datetime

import structlog

from bot.services.context import Context

log = structlog.get_logger("bot.jobs.heartbeat")


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
    """Prove liveness (the daemon adds the systemd watchdog ping after it)."""
    write_heartbeat(ctx, now)
    log.info("heartbeat", mode=ctx.settings.exchange.mode, exchange=ctx.settings.exchange.id)
