"""A control action whose database write does not answer in time is "outcome unknown" (503,
saying how to find out), never a bare 500: the worker thread may still record it, and an
operator who reads "failed" would ask again or give up on a panic that is in fact under way."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.ops.web import server
from bot.ops.web.control_actions import Control
from bot.state.runtime_state import RuntimeState
from tests.unit.ops.seed import make_context
from tests.unit.ops.test_control_api import AUTH, call, control_context, serve


def test_a_panic_confirm_the_store_does_not_answer_in_time_is_outcome_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = control_context(tmp_path)
    release = threading.Event()
    confirm = Control.confirm_panic

    def slow_confirm(self: Control, origin: str, code: str) -> Any:
        release.wait(timeout=60)  # a database that hangs past the request's deadline
        return confirm(self, origin, code)

    monkeypatch.setattr(Control, "confirm_panic", slow_confirm)
    monkeypatch.setattr(server, "STORE_DEADLINE_SECONDS", 0.5)

    async def scenario(session: aiohttp.ClientSession, base: str) -> tuple[int, Any]:
        code = (await call(session, "POST", base + "/api/panic", headers=AUTH))[1]["code"]
        status, body, _ = await call(
            session, "POST", base + "/api/panic/confirm", headers=AUTH, json={"code": code}
        )
        release.set()
        # The thread goes on and records the panic once the database answers (before the
        # server and its store close).
        for _ in range(1200):
            if RuntimeState(ctx.store).panic_requested():
                break
            await asyncio.sleep(0.05)
        return status, body

    status, body = serve(ctx, scenario)
    assert status == 503
    assert "may or may not be recorded" in body["error"]
    assert "panic_pending" in body["error"]
    reader = make_context(tmp_path)
    assert RuntimeState(reader.store).panic_requested() is True
    reader.store.close()
