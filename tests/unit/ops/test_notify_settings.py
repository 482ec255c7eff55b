"""QTBOT_NOTIFY__* settings: URL lists, kinds, validation that never echoes a token."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config.notify import NotificationKind, NotifySettings, parse_kinds, split_urls
from bot.ops.notify.build import build_notifier
from bot.ops.notify.notifier import AppriseNotifier, NullNotifier


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        pytest.param("tgram://bot/chat", ["tgram://bot/chat"], id="one"),
        pytest.param("tgram://a/b  discord://c/d", ["tgram://a/b", "discord://c/d"], id="spaces"),
        pytest.param("tgram://a/b,discord://c/d", ["tgram://a/b", "discord://c/d"], id="comma"),
        pytest.param("mailto://u:p@x?to=a,b", ["mailto://u:p@x?to=a,b"], id="comma_in_query"),
    ],
)
def test_urls_split_on_spaces_and_url_starting_commas(text: str, urls: list[str]) -> None:
    assert split_urls(text) == urls


def test_kinds_parse_all_or_a_list() -> None:
    assert parse_kinds("all") is None
    assert parse_kinds("fill, stop_loss") == {NotificationKind.FILL, NotificationKind.STOP_LOSS}
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds("fill,stoploss")


def test_bad_url_is_rejected_without_showing_or_logging_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ValidationError) as info:
        NotifySettings(urls="json://127.0.0.1:9/ok not-a-url-secret42")  # type: ignore[arg-type]
    (error,) = info.value.errors()
    assert "URL number [2] of 2" in error["msg"] and "secret42" not in error["msg"]
    assert "secret42" not in caplog.text


def test_no_urls_means_null_notifier_and_urls_mean_apprise() -> None:
    assert isinstance(build_notifier(NotifySettings()), NullNotifier)
    assert isinstance(build_notifier(None), NullNotifier)
    on = NotifySettings(urls="json://127.0.0.1:9/ok", per_kind_per_hour=3)  # type: ignore[arg-type]
    assert on.enabled and on.url_list() == ["json://127.0.0.1:9/ok"]
    assert isinstance(build_notifier(on), AppriseNotifier)


def test_off_turns_the_daily_summary_off() -> None:
    assert NotifySettings(daily_summary_hour="off").daily_summary_hour is None  # type: ignore[arg-type]
    assert NotifySettings().daily_summary_hour == 0
    with pytest.raises(ValidationError):
        NotifySettings(daily_summary_hour=24)
