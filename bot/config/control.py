"""The remote-control settings: the HTTP control API (QTBOT_CONTROL__*) and the Telegram command
bot (QTBOT_TELEGRAM__*). Both are off by default; neither can change a setting or withdraw.
"""

from __future__ import annotations

import importlib.util
import re

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.section import SettingsSection
from bot.config.values import http_url

# 32 characters of `openssl rand -hex 32` is 128 bits; shorter tokens can be guessed offline
# faster than the rate limit lets anyone try them online, so refuse them outright.
MIN_TOKEN_CHARS = 32
TELEGRAM_EXTRA = "telegram"
_BOT_TOKEN = re.compile(r"[0-9]{3,20}:[A-Za-z0-9_-]{30,100}")


def telegram_installed() -> bool:
    """Whether the optional Telegram library (`pip install 'qtbot[telegram]'`) is importable."""
    return importlib.util.find_spec("telegram") is not None


def parse_chat_ids(value: str) -> tuple[int, ...]:
    """`"1234, -100987"` -> (1234, -100987); group chats have negative ids."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items or not all(re.fullmatch(r"-?[0-9]{1,20}", item) for item in items):
        raise ValueError(
            "must be Telegram chat ids (whole numbers, groups negative) such as 123456789, "
            "comma separated"
        )
    return tuple(int(item) for item in items)


class ControlSettings(SettingsSection):
    enabled: bool = Field(
        False, description="serve the authenticated control API (/api/...) on the status server"
    )
    token: SecretStr | None = Field(
        None,
        description=f"bearer token of the control API, {MIN_TOKEN_CHARS}+ characters "
        "(openssl rand -hex 32)",
    )
    requests_per_minute: int = Field(
        30, ge=1, le=600, description="control API requests one client may make per minute"
    )
    failed_auth_per_hour: int = Field(
        5,
        ge=1,
        le=100,
        description="wrong or missing tokens from one client per hour before it is locked out",
    )
    panic_code_seconds: int = Field(
        60, ge=10, le=600, description="a panic confirmation code is valid this long"
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"must be at least {MIN_TOKEN_CHARS} characters: generate one with "
                "`openssl rand -hex 32`"
            )
        return value

    @model_validator(mode="after")
    def _token_when_enabled(self) -> ControlSettings:
        if self.enabled and self.token is None:
            raise ValueError(
                "QTBOT_CONTROL__ENABLED=true needs QTBOT_CONTROL__TOKEN: generate one with "
                "`openssl rand -hex 32`"
            )
        return self


class TelegramSettings(SettingsSection):
    enabled: bool = Field(False, description="run the Telegram command bot inside the daemon")
    token: SecretStr | None = Field(None, description="bot token from @BotFather")
    chat_ids: str | None = Field(
        None, description="chat ids allowed to command the bot, comma separated"
    )
    api_url: str | None = Field(
        None, description="Bot API server; empty = https://api.telegram.org"
    )

    _api_url = field_validator("api_url")(classmethod(lambda cls, v: http_url(v)))

    @field_validator("chat_ids")
    @classmethod
    def _chat_ids(cls, value: str | None) -> str | None:
        return None if value is None else ",".join(str(i) for i in parse_chat_ids(value))

    @field_validator("token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _BOT_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("is not a bot token as @BotFather gives it (digits:letters)")
        return value

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> TelegramSettings:
        if not self.enabled:
            return self
        missing = [
            f"QTBOT_TELEGRAM__{name.upper()}"
            for name in ("token", "chat_ids")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"QTBOT_TELEGRAM__ENABLED=true needs {' and '.join(missing)}")
        if not telegram_installed():
            raise ValueError(
                "QTBOT_TELEGRAM__ENABLED=true needs the Telegram library: "
                f"pip install -e '.[{TELEGRAM_EXTRA}]' (the Docker image has it), "
                "or set QTBOT_TELEGRAM__ENABLED=false"
            )
        return self

    def allowed_chats(self) -> frozenset[int]:
        return frozenset(parse_chat_ids(self.chat_ids)) if self.chat_ids else frozenset()


def control_needs_http(control_enabled: bool, http_enabled: bool) -> None:
    """The control API lives on the status server: enabling it alone would silently do nothing."""
    if control_enabled and not http_enabled:
        raise ValueError(
            "QTBOT_CONTROL__ENABLED=true serves on the status server: also set "
            "QTBOT_HTTP__ENABLED=true"
        )
