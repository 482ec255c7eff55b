"""The Telegram command bot against a loopback fake of the Bot API: commands from allowed
chats act through the control functions (journaled with the chat), other chats are refused,
and a /pause shows in `qtbot status`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("telegram")

from bot.config import control as control_settings
from bot.config.settings import ConfigError, load_settings
from bot.ops.telegram.launch import start_telegram
from bot.ops.web.control_actions import Control, off_loop
from bot.services.context import Context
from bot.state.runtime_state import RuntimeState
from tests.integration.telegram_fake import FakeBotApi
from tests.unit.ops.seed import make_context

BOT_TOKEN = "123456789:" + "AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
OWNER = 1234
STRANGER = 999


def bot_context(tmp_path: Path, api_url: str) -> Context:
    return make_context(
        tmp_path,
        telegram={
            "enabled": True,
            "token": BOT_TOKEN,
            "chat_ids": f"{OWNER}, -100555",
            "api_url": api_url,
        },
    )


def with_bot(tmp_path: Path, scenario: Callable[[FakeBotApi, Context], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        fake = FakeBotApi(BOT_TOKEN)
        ctx = bot_context(tmp_path, await fake.start())
        bot = await start_telegram(
            Control(ctx, ctx.settings.control.panic_code_seconds), ctx.settings.telegram, off_loop
        )
        assert bot is not None
        try:
            return await scenario(fake, ctx)
        finally:
            await bot.stop()
            await fake.stop()
            ctx.store.close()

    return asyncio.run(main())


def qtbot_status(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QTBOT_")} | {
        "QTBOT_DATA_DIR": str(tmp_path),
        "QTBOT_ENV_FILE": str(tmp_path / "none.env"),
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "qtbot"), "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_pause_from_telegram_shows_in_qtbot_status(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotApi, ctx: Context) -> list[str]:
        fake.push(OWNER, "/pause")
        return await fake.reply_to(OWNER)

    before = qtbot_status(tmp_path)
    assert "entries:   allowed" in before.stdout, before.stdout + before.stderr
    (reply,) = with_bot(tmp_path, scenario)
    assert reply.startswith("qtbot: paused by telegram chat 1234")
    after = qtbot_status(tmp_path)
    assert after.returncode == 0, after.stderr
    assert "entries:   PAUSED (risk-off)" in after.stdout
    assert "paused by telegram chat 1234" in after.stdout
    print(f"$ qtbot status   # after /pause from chat {OWNER}\n{after.stdout}")


def test_other_chats_are_refused_and_journaled(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotApi, ctx: Context) -> list[str]:
        for _ in range(5):
            fake.push(STRANGER, "/pause")
        return await fake.reply_to(STRANGER, count=5)

    replies = with_bot(tmp_path, scenario)
    assert all("chat 999 is not allowed" in text for text in replies)
    reader = make_context(tmp_path)
    assert reader.store.risk_off() is False
    refused = reader.store.recent_journal(50, kind="control_refused")
    # journaled, but a few times an hour per chat at most
    assert [row.data["origin"] for row in refused] == ["telegram chat 999"] * 3
    reader.store.close()


def test_panic_needs_the_code_it_was_given(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotApi, ctx: Context) -> list[Any]:
        state = RuntimeState(ctx.store)
        fake.push(OWNER, "/panic")
        (offer,) = await fake.reply_to(OWNER)
        code = offer.split("/panic ")[1].split()[0]
        fake.push(OWNER, "/panic 12345x")
        wrong = (await fake.reply_to(OWNER, 2))[1]
        after_wrong = state.panic_requested()
        fake.push(OWNER, "/panic")
        code = (await fake.reply_to(OWNER, 3))[2].split("/panic ")[1].split()[0]
        fake.push(OWNER, f"/panic {code}")
        done = (await fake.reply_to(OWNER, 4))[3]
        return [wrong, after_wrong, done, state.panic_requested(), ctx.store.risk_off()]

    wrong, after_wrong, done, requested, risk_off = with_bot(tmp_path, scenario)
    assert wrong.startswith("qtbot: wrong code") and after_wrong is False
    assert done.startswith("qtbot: panic confirmed by telegram chat 1234")
    assert requested is True and risk_off is True


def test_status_trades_profit_answer_in_text(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotApi, ctx: Context) -> list[str]:
        for command in ("/status", "/trades", "/profit", "/resume", "/help"):
            fake.push(OWNER, command)
        return await fake.reply_to(OWNER, 5)

    status, trades, profit, resume, help_text = with_bot(tmp_path, scenario)
    assert "entries: allowed" in status and "positions: none" in status
    assert trades == "no closed trades yet"
    assert profit.startswith("realised:")
    assert resume.startswith("qtbot: resumed by telegram chat 1234")
    assert "/panic" in help_text


def test_enabled_without_the_library_is_one_config_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(control_settings, "telegram_installed", lambda: False)
    env = tmp_path / ".env"
    env.write_text(
        f"QTBOT_TELEGRAM__ENABLED=true\nQTBOT_TELEGRAM__TOKEN={BOT_TOKEN}\n"
        f"QTBOT_TELEGRAM__CHAT_IDS={OWNER}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    (line,) = error.value.problems
    assert "pip install -e '.[telegram]'" in line and "QTBOT_TELEGRAM__ENABLED=false" in line
    assert BOT_TOKEN not in line
