"""The optional status server: /healthz, /metrics, /status.json and a read-only HTML page.

It runs inside the daemon's asyncio loop (aiohttp.web); every store read happens in a worker
thread with a deadline, so a slow database answers 503 instead of stalling the jobs.
Off by default; bound to 127.0.0.1 unless QTBOT_HTTP__HOST says otherwise. Its pages only read
(plus one kv write that proves the store is writable) and have no authentication: keep it on
loopback or behind a proxy that adds some. The control API (`/api/...`, `control.py`) is there
only with QTBOT_CONTROL__ENABLED, behind a bearer token. It answers only the Host names it is
reached by (`host_guard`, against DNS rebinding), drops clients that have not sent a whole
request within QTBOT_HTTP__CLIENT_TIMEOUT_SECONDS, and refuses oversized headers and bodies.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from bot.ops.notify.notifier import Notifier
from bot.ops.web.control import ControlApi
from bot.ops.web.control_actions import Control
from bot.ops.web.control_limits import ClientLimiter
from bot.ops.web.health import HealthPolicy, HealthReport, evaluate_health, health_policy
from bot.ops.web.host_guard import host_guard
from bot.ops.web.metrics import CONTENT_TYPE, metric_families, render
from bot.ops.web.page import render_page
from bot.ops.web.snapshot import Snapshot, take_snapshot
from bot.ops.web.state import VENUE_PROBE_SECONDS, OpsState
from bot.services.context import Context
from bot.state.runtime_state import RuntimeState
from bot.state.store import HeartbeatView

log = structlog.get_logger("bot.ops.web")

STORE_DEADLINE_SECONDS = 5.0
# Our pages need a request line and a dozen short headers; anything longer is refused (400).
MAX_HEADER_LINE_BYTES = 8190
MAX_HEADERS = 32
# The only bodies accepted are the control API's small JSON ones.
MAX_BODY_BYTES = 16 * 1024


@dataclass
class StatusServer:
    ctx: Context
    state: OpsState | None
    notifier: Notifier | None
    policy: HealthPolicy

    def now(self) -> datetime:
        return self.ctx.clock.now()

    def _probe_store(self, now: datetime) -> tuple[str | None, HeartbeatView | None]:
        store = self.ctx.store
        try:
            RuntimeState(store).set_health_checked_at(now)
        except Exception as exc:
            return f"not writable: {type(exc).__name__}: {exc}"[:300], None
        return None, store.heartbeat(self.ctx.name)

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        return await asyncio.wait_for(
            asyncio.to_thread(function, *args), timeout=STORE_DEADLINE_SECONDS
        )

    async def health(self, now: datetime) -> HealthReport:
        try:
            store_error, beat = await self._in_thread(self._probe_store, now)
        except TimeoutError:
            store_error, beat = f"no answer within {STORE_DEADLINE_SECONDS} s", None
        state = self.state
        venue = (
            (state.venue_ok_at, state.venue_error_at, state.venue_error)
            if state
            else (
                None,
                None,
                None,
            )
        )
        write_failure = state.store_write_error if state else None
        return evaluate_health(now, beat, store_error, venue, self.policy, write_failure)

    async def snapshot(self, now: datetime) -> Snapshot:
        return await self._in_thread(take_snapshot, self.ctx, now)

    # --- handlers ---------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        report = await self.health(self.now())
        return web.json_response(report.as_dict(), status=200 if report.ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        now = self.now()
        report = await self.health(now)
        snap = await self.snapshot(now)
        settings = self.ctx.settings
        text = render(
            metric_families(
                snap,
                report,
                self.state,
                self.notifier.stats() if self.notifier else None,
                info={"mode": settings.exchange.mode, "exchange": settings.exchange.id},
            )
        )
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    async def page(self, request: web.Request) -> web.Response:
        now = self.now()
        report = await self.health(now)
        snap = await self.snapshot(now)
        return web.Response(text=render_page(snap, report, now), content_type="text/html")

    async def status_json(self, request: web.Request) -> web.Response:
        snap = await self.snapshot(self.now())
        return web.Response(
            text=json.dumps(snap.view, default=str, indent=2), content_type="application/json"
        )


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    response.headers["Referrer-Policy"] = "no-referrer"


def control_api(server: StatusServer, control: Control | None = None) -> ControlApi | None:
    """The control API when QTBOT_CONTROL__ENABLED (on `control`, shared with the Telegram bot,
    or a new one)."""
    settings = server.ctx.settings.control
    if not settings.enabled or settings.token is None:
        return None
    return ControlApi(
        control or Control(server.ctx, settings.panic_code_seconds),
        settings.token,
        ClientLimiter(settings.requests_per_minute, settings.failed_auth_per_hour),
        server._in_thread,
    )


def build_app(
    server: StatusServer, bound_host: str | None = None, api: ControlApi | None = None
) -> web.Application:
    http = server.ctx.settings.http
    middlewares = [host_guard(bound_host or http.host, http.allowed_host_list())]
    if api is not None:
        middlewares.append(api.guard)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app.router.add_get("/", server.page)
    app.router.add_get("/healthz", server.healthz)
    app.router.add_get("/metrics", server.metrics)
    app.router.add_get("/status.json", server.status_json)
    if api is not None:
        api.add_routes(app)
    app.on_response_prepare.append(_security_headers)
    return app


async def start_http(
    ctx: Context,
    *,
    state: OpsState | None = None,
    notifier: Notifier | None = None,
    host: str | None = None,
    port: int | None = None,
    control: Control | None = None,
) -> web.AppRunner:
    """Serve in the running loop; returns the runner for `stop_http`. Raises OSError if the
    address is taken. Without `state` and `notifier` (a server beside no daemon) the page
    shows no job or notification figures. `control` is the Telegram bot's, to share."""
    settings = ctx.settings
    server = StatusServer(
        ctx,
        state,
        notifier,
        health_policy(settings.daemon.heartbeat_seconds, VENUE_PROBE_SECONDS),
    )
    bound_host = host or settings.http.host
    runner = web.AppRunner(
        build_app(server, bound_host, control_api(server, control)),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=2.0,
        # aiohttp arms this timer when a connection opens and closes the connection if no
        # whole request has arrived by then: it bounds a slow or half-sent request as well as
        # an idle keep-alive connection.
        keepalive_timeout=settings.http.client_timeout_seconds,
        max_line_size=MAX_HEADER_LINE_BYTES,
        max_field_size=MAX_HEADER_LINE_BYTES,
        max_headers=MAX_HEADERS,
    )
    await runner.setup()
    site = web.TCPSite(runner, bound_host, settings.http.port if port is None else port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("http_started", url=f"http://{http_address(runner)}/")
    return runner


def http_address(runner: web.AppRunner) -> str:
    """host:port actually bound (useful with port 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple):
            host, port = address[0], address[1]
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    raise RuntimeError("the status server is not listening")


async def stop_http(runner: web.AppRunner) -> None:
    await runner.cleanup()
    log.info("http_stopped")
