"""Start the Telegram bot when QTBOT_TELEGRAM__ENABLED, without importing the optional library
otherwise (the settings already refused enabling it when the library is missing)."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from bot.config.control import TelegramSettings
from bot.ops.web.control_actions import Control


class RunningBot(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def start_telegram(
    control: Control, settings: TelegramSettings, in_thread: Any
) -> RunningBot | None:
    """The started bot, or None when disabled. Raises what the Bot API answered at getMe
    (a revoked token: `telegram.error.InvalidToken`) or a network error."""
    if not settings.enabled:
        return None
    module = importlib.import_module("bot.ops.telegram.bot")
    bot: RunningBot = module.CommandBot(control, settings, in_thread)
    await bot.start()
    return bot
