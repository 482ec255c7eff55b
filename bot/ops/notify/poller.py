"""The notification job: tail the journal, turn new rows into notifications, send a daily summary.

Restart-safe: the id of the last row handled is kept in the kv table, so a restart neither
repeats nor skips events (delivery is at most once: a row is marked handled when it is queued).
The first run starts at the newest row, since history is not news, and rows older than
`stale_after` (a long outage) are skipped. The trading path is untouched: it only writes the
journal, as it always does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import structlog

from bot.config.notify import NotificationKind
from bot.ops.notify.journal_map import event_from_journal
from bot.ops.notify.journal_tail import journal_after, journal_between, last_journal_id
from bot.ops.notify.notifier import Notifier
from bot.ops.notify.summary import daily_summary
from bot.ops.status import positions_view
from bot.services.context import Context
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store

log = structlog.get_logger("bot.ops.notify")

STALE_AFTER = timedelta(hours=6)


@dataclass
class JournalNotifier:
    """A job `(ctx, now)`: schedule it every few seconds next to the others.

    kinds: the notification kinds to send (None = all). summary_hour: the UTC hour from which
    the previous day's summary goes out (None = no summary).
    """

    notifier: Notifier
    kinds: frozenset[NotificationKind] | None = None
    summary_hour: int | None = 0
    batch: int = 200
    stale_after: timedelta = STALE_AFTER

    def __call__(self, ctx: Context, now: datetime) -> None:
        self.poll(ctx.store, now)
        if self.summary_hour is not None:
            self.maybe_summary(ctx, now)

    def _wanted(self, kind: NotificationKind) -> bool:
        return self.kinds is None or kind in self.kinds

    def poll(self, store: Store, now: datetime) -> int:
        """Queue notifications for journal rows not handled yet; returns how many were queued."""
        state = RuntimeState(store)
        cursor = state.notify_cursor()
        if cursor is None:
            start = last_journal_id(store)
            state.set_notify_cursor(start, now)
            log.info("notify_cursor_started", after_id=start)
            return 0
        entries = journal_after(store, cursor, self.batch)
        queued = stale = 0
        for entry in entries:
            if now - entry.at > self.stale_after:
                stale += 1
                continue
            event = event_from_journal(entry)
            if event is not None and self._wanted(event.kind) and self.notifier.notify(event):
                queued += 1
        if entries:
            state.set_notify_cursor(entries[-1].id, now)
        if stale:
            log.warning("notify_stale_events_skipped", count=stale)
        return queued

    def maybe_summary(self, ctx: Context, now: datetime) -> bool:
        """Send yesterday's summary once, from `summary_hour` UTC on; True when queued."""
        if self.summary_hour is None or not self._wanted(NotificationKind.DAILY_SUMMARY):
            return False
        store = ctx.store
        yesterday = now.astimezone(UTC).date() - timedelta(days=1)
        state = RuntimeState(store)
        done = state.summary_day()
        if done is None:
            # A fresh install has no yesterday worth summing up.
            state.set_summary_day(yesterday, now)
            return False
        if done >= yesterday or now.hour < self.summary_hour:
            return False
        start = datetime.combine(yesterday, time(0), tzinfo=UTC)
        end = start + timedelta(days=1)
        equity_start, equity_end = _equity_span(store, start, end)
        event = daily_summary(
            yesterday,
            journal_between(store, start, end),
            now,
            equity_start=equity_start,
            equity_end=equity_end,
            open_positions=_open_positions(ctx),
        )
        state.set_summary_day(yesterday, now)
        return self.notifier.notify(event)


def _equity_span(
    store: Store, start: datetime, end: datetime
) -> tuple[Decimal | None, Decimal | None]:
    day = store.equity_series(start, end)
    if not day:
        return None, None
    return day[0].equity, day[-1].equity


def _open_positions(ctx: Context) -> int | None:
    try:
        return len(positions_view(ctx.settings, ctx.store))
    except Exception:  # a summary without the count beats no summary
        log.warning("summary_positions_unavailable", exc_info=True)
        return None
