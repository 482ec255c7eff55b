"""The control API on the status server (QTBOT_CONTROL__ENABLED): `/api/...`, bearer token.

    GET  /api/status  /api/trades[?since=ISO]  /api/profit  /api/journal[?limit=&kind=]
    POST /api/pause  /api/resume
    POST /api/panic              -> {"code": "123456"}, valid QTBOT_CONTROL__PANIC_CODE_SECONDS
    POST /api/panic/confirm      body {"code": "123456"} -> the daemon flattens at its next check

Every `/api/` request, known path or not, first passes `guard`: a client locked out after
QTBOT_CONTROL__FAILED_AUTH_PER_HOUR failed tokens gets 429, a missing or wrong token 401
(journaled), then QTBOT_CONTROL__REQUESTS_PER_MINUTE applies. Only then does routing answer
404/405, so nobody learns the API's shape without the token. There is no route that changes a
setting or withdraws. The client is the TCP peer: behind a reverse proxy every client shares
the proxy's budget (forwarded-for headers are not trusted, since anyone can send them).
Browsers cannot be made to send the token cross-site (no cookie, no CORS), so no CSRF.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web
from pydantic import SecretStr

from bot.ops.web.control_actions import Control
from bot.ops.web.control_limits import ClientLimiter

log = structlog.get_logger("bot.ops.web.control")

API_PREFIX = "/api/"
MAX_BODY_BYTES = 1024

InThread = Callable[..., Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _digest(text: str) -> bytes:
    # Equal-length digests: the comparison's time says nothing about the token's length either.
    return hashlib.sha256(text.encode()).digest()


def token_matches(header: str | None, token: SecretStr) -> bool:
    """Whether an `Authorization` header carries `Bearer <token>` (constant-time compare)."""
    scheme, _, given = (header or "").strip().partition(" ")
    matches = hmac.compare_digest(_digest(given.strip()), _digest(token.get_secret_value()))
    return scheme.lower() == "bearer" and matches


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _retry_after(seconds: float) -> str:
    return str(int(seconds) + 1)


@dataclass
class ControlApi:
    control: Control
    token: SecretStr
    limiter: ClientLimiter
    in_thread: InThread
    monotonic: Callable[[], float] = time.monotonic

    @staticmethod
    def origin(request: web.Request) -> str:
        return f"http {request.remote or 'unknown'}"

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX) and request.path != API_PREFIX.rstrip("/"):
            return await handler(request)
        client = request.remote or "unknown"
        now = self.monotonic()
        # The right token always passes: behind a proxy or a NAT every client shares one
        # address, and junk tokens from a scanner must not lock the operator out of pause and
        # panic. A locked-out address only stops having its further failures checked.
        if not token_matches(request.headers.get("Authorization"), self.token):
            locked = self.limiter.locked_out_for(client, now)
            if locked is not None:
                retry = {"Retry-After": _retry_after(locked)}
                return _error(429, "too many failed tokens: wait", **retry)
            self.limiter.record_failure(client, now)
            log.warning("control_refused", origin=self.origin(request), path=request.path)
            await self.in_thread(
                self.control.refused, self.origin(request), f"bad token for {request.path}"
            )
            return _error(401, "a valid bearer token is needed", **{"WWW-Authenticate": "Bearer"})
        wait = self.limiter.take_request(client, now)
        if wait is not None:
            return _error(429, "rate limit: wait", **{"Retry-After": _retry_after(wait)})
        return await handler(request)

    # --- reads ------------------------------------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        return _json(await self.in_thread(self.control.status))

    async def trades(self, request: web.Request) -> web.Response:
        since_text = request.query.get("since")
        since = None
        if since_text:
            try:
                since = datetime.fromisoformat(since_text)
            except ValueError:
                return _error(400, "since must be an ISO-8601 time such as 2026-01-31")
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
        return _json(await self.in_thread(self.control.trades, since))

    async def profit(self, request: web.Request) -> web.Response:
        return _json(await self.in_thread(self.control.profit))

    async def journal(self, request: web.Request) -> web.Response:
        limit_text = request.query.get("limit", "50")
        if not limit_text.isdigit():
            return _error(400, "limit must be a whole number")
        rows = await self.in_thread(
            self.control.journal, int(limit_text), request.query.get("kind") or None
        )
        return _json(rows)

    # --- actions ----------------------------------------------------------------------------

    async def _act(self, action: str, function: Callable[..., Any], *args: Any) -> Any:
        """Run a control action in a worker thread. A store that does not answer in time is
        "outcome unknown", never "failed": the thread may still record the action."""
        try:
            return await self.in_thread(function, *args)
        except TimeoutError:
            log.error("control_outcome_unknown", action=action)
            raise web.HTTPServiceUnavailable(
                text=json.dumps(
                    {
                        "error": f"the database did not answer in time: the {action} may or may "
                        "not be recorded; check GET /api/status (risk_off, panic_pending) before "
                        "asking again"
                    }
                ),
                content_type="application/json",
            ) from None

    async def pause(self, request: web.Request) -> web.Response:
        message = await self._act("pause", self.control.pause, self.origin(request))
        return _json({"message": message})

    async def resume(self, request: web.Request) -> web.Response:
        message = await self._act("resume", self.control.resume, self.origin(request))
        return _json({"message": message})

    async def panic(self, request: web.Request) -> web.Response:
        code = await self.in_thread(self.control.request_panic, self.origin(request))
        seconds = int(self.control.code_seconds)
        return _json(
            {
                "code": code,
                "expires_in_seconds": seconds,
                "message": f'POST /api/panic/confirm with {{"code": "{code}"}} within '
                f"{seconds}s to cancel all orders and sell everything",
            }
        )

    async def panic_confirm(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _error(413, "body too large")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 'send JSON: {"code": "123456"}')
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str):
            return _error(400, 'send JSON: {"code": "123456"}')
        outcome = await self._act("panic", self.control.confirm_panic, self.origin(request), code)
        return _json({"message": outcome.message}, 200 if outcome.ok else 409)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/status", self.status)
        app.router.add_get("/api/trades", self.trades)
        app.router.add_get("/api/profit", self.profit)
        app.router.add_get("/api/journal", self.journal)
        app.router.add_post("/api/pause", self.pause)
        app.router.add_post("/api/resume", self.resume)
        app.router.add_post("/api/panic", self.panic)
        app.router.add_post("/api/panic/confirm", self.panic_confirm)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=str)  # Decimals and datetimes as their text
