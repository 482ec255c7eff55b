"""What a notification is: a kind, a severity, a title and a body, taken from the journal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.config.notify import NotificationKind


class Severity(StrEnum):
    """Apprise's notify types, so a receiver can colour them."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


# Kinds that still go out when the global budget is spent: each means money moved out of a
# position or trading stopped, and each is capped by its own per-kind budget anyway.
CRITICAL_KINDS = frozenset(
    {
        NotificationKind.STOP_LOSS,
        NotificationKind.TRAILING_STOP,
        NotificationKind.FLATTEN,
        NotificationKind.PANIC,
        NotificationKind.KILL_SWITCH,
    }
)


@dataclass(frozen=True, slots=True)
class NotificationEvent:
    """One message for the operator. `at` is the event time (the bot's clock, UTC)."""

    kind: NotificationKind
    title: str
    body: str
    at: datetime
    severity: Severity = Severity.INFO
    symbol: str | None = None
    journal_id: int | None = None

    @property
    def critical(self) -> bool:
        return self.kind in CRITICAL_KINDS
