"""Only fresh commands are obeyed: a command queued while the daemon was down (Telegram keeps
them 24 h) and an old message edited into a command must not run, so a "/resume" typed hours
ago cannot undo what the operator did since."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.ops.notify.notifier import NullNotifier
from bot.ops.telegram.launch import start_telegram
from bot.ops.web.control_actions import Control, off_loop
from bot.ops.web.operations import Operations
from tests.integration.telegram_fake import FakeBotApi
from tests.integration.test_telegram_bot import BOT_TOKEN, OWNER, bot_context


def test_queued_and_edited_commands_are_not_obeyed(tmp_path: Path) -> None:
    async def main() -> tuple[bool, list[str]]:
        fake = FakeBotApi(BOT_TOKEN)
        ctx = bot_context(tmp_path, await fake.start())
        fake.push(OWNER, "/pause")  # typed while the daemon was down
        bot = await start_telegram(
            Control(ctx, ctx.settings.control.panic_code_seconds), ctx.settings.telegram, off_loop
        )
        assert bot is not None
        try:
            fake.push(OWNER, "/pause", edited=True)
            fake.push(OWNER, "/status")
            # Updates are handled in order: the reply to /status means both before were seen.
            replies = await fake.reply_to(OWNER)
            return ctx.store.risk_off(), replies
        finally:
            await bot.stop()
            await fake.stop()
            ctx.store.close()

    paused, replies = asyncio.run(main())
    assert paused is False
    # The first reply is the one to /status, not to either /pause.
    assert not replies[0].startswith("qtbot: paused"), replies


def test_a_refused_token_is_journaled_without_the_token(tmp_path: Path) -> None:
    """python-telegram-bot puts the whole token in InvalidToken's text; the journal (status
    page, notifiers, `qtbot journal`) must say what failed without it."""

    async def main() -> list[str]:
        fake = FakeBotApi("999999999:" + "x" * 35)  # the Bot API knows another token: 401
        ctx = bot_context(tmp_path, await fake.start())
        ops = Operations(ctx, NullNotifier())
        try:
            await ops._start_telegram(Control(ctx, ctx.settings.control.panic_code_seconds))
            assert ops.telegram is None
            return [e.message for e in ctx.store.recent_journal(limit=20)]
        finally:
            await fake.stop()
            ctx.store.close()

    messages = asyncio.run(main())
    refused = [m for m in messages if "Telegram bot not started" in m]
    assert refused, messages
    assert all(BOT_TOKEN not in m for m in messages), refused
    assert all(BOT_TOKEN.split(":")[1] not in m for m in messages), refused
