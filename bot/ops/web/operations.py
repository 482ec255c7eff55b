"""The operations side of one daemon run, wired in one place: notifier, job tracking, HTTP.

ops = Operations.for_context(ctx)
jobs = ops.wrap_jobs(registered_jobs(ctx))      # + notify / venue_probe jobs, tracked
await ops.start(serve_http=not once)            # notifier thread, status server, Telegram bot
...
await ops.stop()                                # in the daemon's `finally`
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from aiohttp import web

from bot.config.notify import parse_kinds
from bot.ops.notify.build import build_notifier
from bot.ops.notify.notifier import Notifier, NullNotifier
from bot.ops.notify.poller import JournalNotifier
from bot.ops.telegram.launch import RunningBot, start_telegram
from bot.ops.web.control_actions import Control, off_loop
from bot.ops.web.server import start_http, stop_http
from bot.ops.web.state import VENUE_PROBE_SECONDS, OpsState, VenueProbe, track_jobs
from bot.services.context import JobContext, JobSpec

log = structlog.get_logger("bot.ops.web")

NOTIFIER_STOP_SECONDS = 5.0


@dataclass
class Operations:
    ctx: JobContext
    notifier: Notifier
    state: OpsState = field(default_factory=OpsState)
    runner: web.AppRunner | None = None
    telegram: RunningBot | None = None

    @classmethod
    def for_context(cls, ctx: JobContext) -> Operations:
        """Build from ctx.settings (its `notify` section)."""
        settings = ctx.settings
        label = f"qtbot {settings.exchange.mode}/{settings.exchange.id}"
        return cls(ctx, build_notifier(settings.notify, label))

    def extra_jobs(self) -> list[JobSpec]:
        settings = self.ctx.settings
        jobs = []
        section = settings.notify
        if not isinstance(self.notifier, NullNotifier):
            poller = JournalNotifier(
                self.notifier,
                kinds=parse_kinds(section.kinds),
                summary_hour=section.daily_summary_hour,
            )
            jobs.append(JobSpec("notify", poller, section.poll_seconds))
        if settings.http.enabled:
            probe = VenueProbe(self.state, self.ctx.services.exchange, settings.strategy.symbols[0])
            jobs.append(JobSpec("venue_probe", probe, VENUE_PROBE_SECONDS))
        return jobs

    def wrap_jobs(self, jobs: list[JobSpec]) -> list[JobSpec]:
        """`jobs` plus the operations jobs, each recording its runs for /metrics."""
        return track_jobs([*jobs, *self.extra_jobs()], self.state)

    async def start(self, serve_http: bool = True) -> None:
        """Start the notifier; serve HTTP when enabled (OSError if the port is taken)."""
        self.notifier.start()
        settings = self.ctx.settings
        # One Control for the HTTP API and the Telegram bot.
        control = Control(self.ctx, settings.control.panic_code_seconds)
        if serve_http and settings.http.enabled:
            self.runner = await start_http(
                self.ctx, state=self.state, notifier=self.notifier, control=control
            )
        if serve_http and settings.telegram.enabled:
            await self._start_telegram(control)

    async def _start_telegram(self, control: Control) -> None:
        """A Bot API that cannot be reached (or a revoked token) must not keep the daemon, and
        so the exits, from running: say so loudly and go on without the bot."""
        try:
            self.telegram = await start_telegram(control, self.ctx.settings.telegram, off_loop)
        except Exception as exc:
            # python-telegram-bot puts the whole token in InvalidToken's text; the journal is
            # shown on the status page and sent by notifiers, so the token never enters it.
            token = self.ctx.settings.telegram.token
            text = str(exc)
            if token is not None and token.get_secret_value():
                text = text.replace(token.get_secret_value(), "***")
            problem = f"{type(exc).__name__}: {text}"[:300]
            log.error("telegram_not_started", error=problem)
            self.ctx.store.journal(
                self.ctx.clock.now(),
                "telegram_not_started",
                f"Telegram bot not started ({problem}); commands will not be answered",
                level="error",
            )

    async def stop(self) -> None:
        """Stop the bot and the server, then give queued notifications a few seconds to go out."""
        if self.telegram is not None:
            try:
                await self.telegram.stop()
            except Exception:
                log.error("telegram_stop_failed", exc_info=True)
            self.telegram = None
        if self.runner is not None:
            try:
                await stop_http(self.runner)
            except Exception:
                log.error("http_stop_failed", exc_info=True)
            self.runner = None
        self.notifier.stop(NOTIFIER_STOP_SECONDS)
