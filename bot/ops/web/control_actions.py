"""What a remote operator may do, shared by the HTTP control API and the Telegram bot.

Only these: pause and resume entries, panic (after a confirmation code), and read status,
trades, profit and the journal. Nothing here changes a setting or moves funds off the venue.
Every action is journaled (kind `control`) with its origin, e.g. `http 127.0.0.1` or
`telegram chat 1234`; refusals as `control_refused`.

A confirmed panic is a request recorded in the store, not a sale made here: the daemon's next
risk check carries it out (`bot.jobs.risk_check` -> `bot.jobs.panic`) and clears it, so a crash
in between leaves the request standing for the restarted daemon, and a second request before
then is the same single panic (its sales reuse each cycle's exit cause).

Every method does blocking store I/O: call it off the event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.ops.profit import profit_view
from bot.ops.status import status_view
from bot.ops.trades import closed_trades, trade_dict
from bot.services.context import Context
from bot.state.runtime_state import RuntimeState

CODE_DIGITS = 6
CALL_DEADLINE_SECONDS = 10.0
JOURNAL_LIMIT_MAX = 200


@dataclass(frozen=True)
class PanicOutcome:
    ok: bool
    message: str


@dataclass
class Control:
    ctx: Context
    code_seconds: float
    monotonic: Callable[[], float] = time.monotonic
    # One pending code per origin: a code asked for on Telegram cannot be confirmed over HTTP.
    _codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _now(self) -> datetime:
        return self.ctx.clock.now()

    def _journal(self, action: str, origin: str, message: str, level: str = "info") -> None:
        self.ctx.store.journal(
            self._now(), "control", message, level=level, action=action, origin=origin
        )

    def refused(self, origin: str, reason: str) -> None:
        """Journal a refused attempt (bad token, a chat not allowed, a wrong panic code)."""
        self.ctx.store.journal(
            self._now(),
            "control_refused",
            f"refused {origin}: {reason}",
            level="warning",
            origin=origin,
            reason=reason,
        )

    # --- actions --------------------------------------------------------------------------

    def pause(self, origin: str) -> str:
        message = f"paused by {origin}: no new entries, exits keep running"
        self.ctx.store.set_risk_off(True, self._now(), message)
        self._journal("pause", origin, message)
        return message

    def resume(self, origin: str) -> str:
        message = f"resumed by {origin}: entries allowed, drawdown peak restarts at current equity"
        self.ctx.store.set_risk_off(False, self._now(), message)
        self._journal("resume", origin, message)
        if self.ctx.settings.risk.risk_off:
            message += "; note: QTBOT_RISK__RISK_OFF=true still blocks entries"
        return message

    def request_panic(self, origin: str) -> str:
        """A one-time code for `confirm_panic`, valid `code_seconds` for this origin only."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        with self._lock:
            self._codes[origin] = (code, self.monotonic() + self.code_seconds)
        self._journal("panic_code", origin, f"panic confirmation code issued to {origin}")
        return code

    def confirm_panic(self, origin: str, code: str) -> PanicOutcome:
        """Record the panic request if `code` is this origin's pending one; any answer, right or
        wrong, uses the code up (one guess per code)."""
        with self._lock:
            pending = self._codes.pop(origin, None)
        if pending is None or self.monotonic() > pending[1]:
            self.refused(origin, "panic confirmation without a pending code")
            return PanicOutcome(False, "no panic code pending (or it expired): ask for a new one")
        if not hmac.compare_digest(code.strip().encode(), pending[0].encode()):
            self.refused(origin, "wrong panic confirmation code")
            return PanicOutcome(False, "wrong code: nothing done; ask for a new one")
        now = self._now()
        # The request first: should the process die before the risk-off write, the panic itself
        # still stops entries when the restarted daemon carries the request out.
        RuntimeState(self.ctx.store).set_panic_requested(True, now)
        self.ctx.store.set_risk_off(True, now, f"panic requested by {origin}: entries stopped")
        seconds = self.ctx.settings.risk.check_seconds
        message = (
            f"panic confirmed by {origin}: the daemon cancels all orders and sells everything "
            f"at its next risk check (within {seconds}s)"
        )
        self._journal("panic", origin, message, level="warning")
        return PanicOutcome(True, message)

    # --- reads ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        view: dict[str, Any] = status_view(self.ctx.settings, self.ctx.store, self._now())
        view["panic_pending"] = RuntimeState(self.ctx.store).panic_requested()
        return view

    def trades(self, since: datetime | None = None) -> list[dict[str, Any]]:
        return [trade_dict(trade) for trade in closed_trades(self.ctx.store, since)]

    def profit(self) -> dict[str, Any]:
        view: dict[str, Any] = profit_view(self.ctx.settings, self.ctx.store, self._now())
        return view

    def journal(self, limit: int = 50, kind: str | None = None) -> list[dict[str, Any]]:
        rows = self.ctx.store.recent_journal(max(1, min(limit, JOURNAL_LIMIT_MAX)), kind=kind)
        return [
            {
                "id": row.id,
                "at": row.at.isoformat(),
                "kind": row.kind,
                "level": row.level,
                "symbol": row.symbol,
                "message": row.message,
                "data": row.data,
            }
            for row in rows
        ]


async def off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking `Control` call in a worker thread, bounded like the status pages' reads."""
    return await asyncio.wait_for(asyncio.to_thread(function, *args), timeout=CALL_DEADLINE_SECONDS)
