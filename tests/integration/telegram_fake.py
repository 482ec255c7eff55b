"""A loopback fake of the Telegram Bot API: the methods python-telegram-bot calls to start,
poll and reply (getMe, deleteWebhook, getUpdates, sendMessage), and a queue of updates a test
pushes as if a person typed them. Every other method answers `true`."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
LONG_POLL_CAP_SECONDS = 0.5


@dataclass
class FakeBotApi:
    token: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _sent_event: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None
    url: str = ""
    dropped_through: int = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def push(self, chat_id: int, text: str, edited: bool = False) -> None:
        """A message typed in chat `chat_id` (a command when it starts with /); `edited`: an
        old message edited to this text (Telegram sends it as `edited_message`)."""
        update_id = len(self.updates) + 1
        command = text.split()[0]
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "operator"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if edited:
            message["edit_date"] = int(time.time())
        key = "edited_message" if edited else "message"
        self.updates.append({"update_id": update_id, key: message})
        self._arrived.set()

    async def reply_to(self, chat_id: int, count: int = 1, deadline: float = 60.0) -> list[str]:
        """The first `count` texts sent to `chat_id`, waiting for them up to `deadline`."""

        async def wait() -> list[str]:
            while True:
                texts = [m["text"] for m in self.sent if int(m["chat_id"]) == chat_id]
                if len(texts) >= count:
                    return texts[:count]
                self._sent_event.clear()
                await self._sent_event.wait()

        return await asyncio.wait_for(wait(), timeout=deadline)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(str(value))
            except ValueError:
                params[key] = str(value)
        return params

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        if method == "getMe":
            result: Any = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "qtbot",
                "username": "qtbot_test_bot",
            }
        elif method == "getUpdates":
            result = await self._updates(int(params.get("offset") or 0), params.get("timeout"))
        elif method == "sendMessage":
            self.sent.append(params)
            self._sent_event.set()
            result = {
                "message_id": 1000 + len(self.sent),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        else:
            if method == "deleteWebhook" and params.get("drop_pending_updates"):
                # As Telegram does: updates queued so far are never delivered.
                self.dropped_through = len(self.updates)
            result = True
        return web.json_response({"ok": True, "result": result})

    async def _updates(self, offset: int, timeout: Any) -> list[dict[str, Any]]:
        def pending() -> list[dict[str, Any]]:
            first = max(offset, self.dropped_through + 1)
            return [u for u in self.updates if u["update_id"] >= first]

        if not pending() and timeout:
            self._arrived.clear()
            try:
                wait = min(float(timeout), LONG_POLL_CAP_SECONDS)
                await asyncio.wait_for(self._arrived.wait(), timeout=wait)
            except TimeoutError:
                pass
        return pending()
