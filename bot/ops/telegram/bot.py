"""The Telegram command bot: python-telegram-bot (the `telegram` extra) polling for commands
inside the daemon's event loop, acting through the same `Control` as the HTTP API.

Only chats in QTBOT_TELEGRAM__CHAT_IDS are obeyed; any other chat is told its id (so the owner
can add it) and journaled, at most a few times an hour per chat. Imported only when enabled
(`bot.ops.telegram.launch`), so qtbot runs without the extra.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, filters

from bot.config.control import TelegramSettings
from bot.ops.telegram.replies import HELP, profit_text, status_text, trades_text
from bot.ops.web.control_actions import Control
from bot.ops.web.control_limits import ClientLimiter

log = structlog.get_logger("bot.ops.telegram")

DEFAULT_API_URL = "https://api.telegram.org"
COMMANDS = ("status", "trades", "profit", "pause", "resume", "panic", "start", "help")
# Per chat: commands a minute, and refusals journaled an hour for a chat that is not allowed.
COMMANDS_PER_MINUTE = 20
REFUSALS_JOURNALED_PER_HOUR = 3
POLL_TIMEOUT_SECONDS = 10

InThread = Callable[..., Awaitable[Any]]

# httpx logs every request URL at INFO, and a Bot API URL holds the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class CommandBot:
    control: Control
    settings: TelegramSettings
    in_thread: InThread
    monotonic: Callable[[], float] = time.monotonic
    limiter: ClientLimiter = field(
        default_factory=lambda: ClientLimiter(COMMANDS_PER_MINUTE, REFUSALS_JOURNALED_PER_HOUR)
    )
    app: Application | None = None

    async def start(self) -> None:
        """Connect (getMe), then poll for commands in the background."""
        assert self.settings.token is not None  # the settings refuse enabled without one
        api = self.settings.api_url or DEFAULT_API_URL
        app = (
            ApplicationBuilder()
            .token(self.settings.token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .build()
        )
        # New messages only: an edited old "/resume" must not run again.
        app.add_handler(
            CommandHandler(list(COMMANDS), self.on_command, filters=filters.UpdateType.MESSAGE)
        )
        await app.initialize()
        await app.start()
        assert app.updater is not None
        # Commands queued while the daemon was down (Telegram keeps them 24 h) are dropped: a
        # "/resume" typed hours ago must not undo what the operator did since.
        await app.updater.start_polling(
            timeout=POLL_TIMEOUT_SECONDS,
            error_callback=self._polling_error,
            drop_pending_updates=True,
        )
        self.app = app
        log.info("telegram_started", bot=app.bot.username, chats=len(self.settings.allowed_chats()))

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        await app.stop()
        await app.shutdown()
        log.info("telegram_stopped")

    @staticmethod
    def _polling_error(error: Exception) -> None:
        # The library retries by itself; one line, never the request (its URL has the token).
        log.warning("telegram_poll_failed", error=type(error).__name__)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None or not message.text:
            return
        origin = f"telegram chat {chat.id}"
        now = self.monotonic()
        if chat.id not in self.settings.allowed_chats():
            if self.limiter.locked_out_for(origin, now) is None:
                self.limiter.record_failure(origin, now)
                await self.in_thread(self.control.refused, origin, "chat not allowed")
            await message.reply_text(
                f"qtbot: chat {chat.id} is not allowed to command this bot "
                "(its owner can add it to QTBOT_TELEGRAM__CHAT_IDS)"
            )
            return
        if self.limiter.take_request(origin, now) is not None:
            await message.reply_text("qtbot: too many commands; wait a minute")
            return
        command, *args = message.text.split()
        name = command.lstrip("/").split("@")[0].lower()
        reply = await self.answer(name, args, origin)
        await message.reply_text(reply)

    async def answer(self, name: str, args: list[str], origin: str) -> str:
        control = self.control
        if name == "status":
            return status_text(await self.in_thread(control.status))
        if name == "trades":
            return trades_text(await self.in_thread(control.trades))
        if name == "profit":
            return profit_text(await self.in_thread(control.profit))
        if name == "pause":
            return "qtbot: " + await self.in_thread(control.pause, origin)
        if name == "resume":
            return "qtbot: " + await self.in_thread(control.resume, origin)
        if name == "panic":
            if not args:
                code = await self.in_thread(control.request_panic, origin)
                return (
                    f"qtbot: to cancel all orders and sell everything at market, send\n"
                    f"/panic {code}\nwithin {int(control.code_seconds)}s"
                )
            outcome = await self.in_thread(control.confirm_panic, origin, args[0])
            return "qtbot: " + outcome.message
        return HELP
