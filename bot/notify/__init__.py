"""Notifications: journal events -> rate-limited Apprise messages, off the trading path."""

from __future__ import annotations

from bot.notify.events import NotificationEvent, NotificationKind, Severity
from bot.notify.notifier import AppriseNotifier, Notifier, NotifierStats, NullNotifier
from bot.notify.rate_limit import RateLimiter, RateLimits
from bot.notify.settings import NotifySettings

__all__ = [
    "AppriseNotifier",
    "NotificationEvent",
    "NotificationKind",
    "Notifier",
    "NotifierStats",
    "NotifySettings",
    "NullNotifier",
    "RateLimiter",
    "RateLimits",
    "Severity",
    "build_notifier",
]


def build_notifier(section: NotifySettings | None, label: str = "qtbot") -> Notifier:
    """The notifier for a `NotifySettings` section: NullNotifier when no URL is set."""
    if section is None or not section.enabled:
        return NullNotifier()
    return AppriseNotifier(
        section.url_list(),
        limits=RateLimits(section.per_kind_per_hour, section.total_per_hour),
        queue_size=section.queue_size,
        timeout_seconds=section.timeout_seconds,
        label=label,
    )
