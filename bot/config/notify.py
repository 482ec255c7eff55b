"""The `notify` settings section (QTBOT_NOTIFY__*) and the kinds of notification it selects."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator

from bot.config.apprise_urls import invalid_urls
from bot.config.section import SettingsSection


class NotificationKind(StrEnum):
    """What a notification is about; `QTBOT_NOTIFY__KINDS` selects among these."""

    FILL = "fill"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    STOP_LOSS = "stop_loss"
    FLATTEN = "flatten"
    PANIC = "panic"
    REGIME_PIVOT = "regime_pivot"
    LIQUIDATION_FLUSH = "liquidation_flush"
    PLAN = "plan"
    KILL_SWITCH = "kill_switch"
    ERROR = "error"
    DAILY_SUMMARY = "daily_summary"
    LIFECYCLE = "lifecycle"


# Apprise URLs are separated by whitespace, or by a comma that starts another URL
# (a comma inside a URL's query string, e.g. ?to=a,b, is kept).
_URL_SPLIT = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(text: str) -> list[str]:
    return [url for url in _URL_SPLIT.split(text.strip()) if url]


def parse_kinds(text: str) -> frozenset[NotificationKind] | None:
    """`"all"` -> None (everything); `"fill,stop_loss"` -> those kinds."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names or names == ["all"]:
        return None
    known = {k.value for k in NotificationKind}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown kind(s) {unknown}; known: all, {', '.join(sorted(known))}")
    return frozenset(NotificationKind(n) for n in names)


class NotifySettings(SettingsSection):
    urls: SecretStr | None = Field(
        None, description="Apprise URL(s), space separated (tgram://, discord://...); empty = off"
    )
    kinds: str = Field("all", description="events to send: all, or a comma list of kinds")
    per_kind_per_hour: int = Field(
        20, ge=1, le=1000, description="at most this many messages of one kind per hour"
    )
    total_per_hour: int = Field(
        60,
        ge=1,
        le=10000,
        description="messages per hour in all (stops, panic, kill switch exempt)",
    )
    daily_summary_hour: int | None = Field(
        0, ge=0, le=23, description="UTC hour of yesterday's summary; off = no summary"
    )
    poll_seconds: int = Field(15, ge=1, le=3600, description="how often the journal is read")
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="deadline of one delivery")
    queue_size: int = Field(100, ge=1, le=10000, description="messages waiting before drops")

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        urls = split_urls(value.get_secret_value())
        bad = invalid_urls(urls)
        if bad:
            # URLs carry tokens: report positions, never text.
            raise ValueError(f"URL number {bad} of {len(urls)} is not a valid Apprise URL")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: str) -> str:
        parse_kinds(value)
        return value

    @property
    def enabled(self) -> bool:
        return self.urls is not None

    def url_list(self) -> list[str]:
        return split_urls(self.urls.get_secret_value()) if self.urls else []
