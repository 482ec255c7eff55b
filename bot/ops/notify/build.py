"""The notifier a `NotifySettings` section asks for."""

from __future__ import annotations

from bot.config.notify import NotifySettings
from bot.ops.notify.notifier import AppriseNotifier, Notifier, NullNotifier
from bot.ops.notify.rate_limit import RateLimits


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
