"""Deliver notifications off the trading path: a bounded queue drained by one worker thread.

`notify()` never blocks and never raises: it applies the rate limits, then puts the message on
a bounded queue; a full queue drops it with a counted warning. The worker sends through
Apprise (any number of URLs); a failed or hung send is logged and counted, never fatal.
A thread rather than an asyncio task: Apprise sends synchronously, and a hung receiver must not
hold up the event loop or the daemon's exit (the thread is a daemon thread, joined with a
timeout).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from bot.config.apprise_urls import import_apprise, invalid_urls
from bot.ops.notify.events import NotificationEvent
from bot.ops.notify.rate_limit import RateLimiter, RateLimits

log = structlog.get_logger("bot.ops.notify")

_STOP = object()


@dataclass
class NotifierStats:
    """Counters since start, for /metrics and the tests."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    rate_limited: dict[str, int] = field(default_factory=dict)
    dropped_queue_full: int = 0
    dropped_at_stop: int = 0

    def snapshot(self) -> NotifierStats:
        return NotifierStats(
            self.queued,
            self.sent,
            self.failed,
            dict(self.rate_limited),
            self.dropped_queue_full,
            self.dropped_at_stop,
        )


class Notifier(Protocol):
    def start(self) -> None: ...

    def notify(self, event: NotificationEvent) -> bool:
        """Queue `event` for delivery; False when it was rate-limited or dropped. Never blocks."""
        ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def stats(self) -> NotifierStats: ...


class NullNotifier:
    """No URLs configured: every event is accepted and forgotten."""

    def start(self) -> None:
        return None

    def notify(self, event: NotificationEvent) -> bool:
        return False

    def stop(self, timeout: float = 5.0) -> None:
        return None

    def stats(self) -> NotifierStats:
        return NotifierStats()


def _apprise_client(urls: Sequence[str]) -> Any:
    bad = invalid_urls(urls)
    if bad:
        # The URLs carry tokens: name their positions, never their text.
        raise ValueError(f"notification URL(s) number {bad} are not valid Apprise URLs")
    client = import_apprise().Apprise()
    for url in urls:
        client.add(url)
    return client


class AppriseNotifier:
    """Send through Apprise from a worker thread; see the module docstring for the guarantees.

    `timeout_seconds` bounds one delivery (all URLs); `label` prefixes every title, e.g.
    "qtbot paper/binance", so messages from two bots can be told apart.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        limits: RateLimits | None = None,
        queue_size: int = 100,
        timeout_seconds: float = 10.0,
        label: str = "qtbot",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("AppriseNotifier needs at least one URL; use NullNotifier")
        if queue_size < 1 or timeout_seconds <= 0:
            raise ValueError("queue_size and timeout_seconds must be positive")
        self._client = _apprise_client(urls)
        self._limiter = RateLimiter(limits or RateLimits())
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._timeout = timeout_seconds
        self._label = label
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stats = NotifierStats()
        self._thread: threading.Thread | None = None
        self._accepting = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._accepting = True
        self._thread = threading.Thread(target=self._run, name="qtbot-notifier", daemon=True)
        self._thread.start()
        log.info("notifier_started", services=len(self._client))

    def notify(self, event: NotificationEvent) -> bool:
        try:
            return self._enqueue(event)
        except Exception:  # notifying must never break the caller
            log.error("notification_enqueue_failed", kind=event.kind.value, exc_info=True)
            return False

    def _enqueue(self, event: NotificationEvent) -> bool:
        if not self._accepting:
            log.debug("notification_ignored_not_running", kind=event.kind.value)
            return False
        with self._lock:
            allowed = self._limiter.allow(
                event.kind.value, self._monotonic(), bypass_total=event.critical
            )
            if not allowed:
                count = self._stats.rate_limited.get(event.kind.value, 0) + 1
                self._stats.rate_limited[event.kind.value] = count
            held_back = self._limiter.take_suppressed(event.kind.value) if allowed else 0
        if not allowed:
            log.warning("notification_rate_limited", kind=event.kind.value, suppressed=count)
            return False
        body = event.body
        if held_back:
            body += f"\n({held_back} earlier {event.kind.value} messages held back by the limit)"
        try:
            self._queue.put_nowait((event, body))
        except queue.Full:
            with self._lock:
                self._stats.dropped_queue_full += 1
                dropped = self._stats.dropped_queue_full
            log.warning("notification_dropped_queue_full", kind=event.kind.value, dropped=dropped)
            return False
        with self._lock:
            self._stats.queued += 1
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            event, body = item
            self._deliver(event, body)

    def _deliver(self, event: NotificationEvent, body: str) -> None:
        started = self._monotonic()
        try:
            result = self._client.notify(
                body=body,
                title=f"{self._label}: {event.title}",
                notify_type=event.severity.value,
                timeout=self._timeout,
            )
            ok = bool(result)
            status = getattr(getattr(result, "status", None), "name", str(ok))
        except Exception as exc:
            ok, status = False, type(exc).__name__
            log.error("notification_send_error", kind=event.kind.value, exc_info=True)
        elapsed = round(self._monotonic() - started, 3)
        with self._lock:
            if ok:
                self._stats.sent += 1
            else:
                self._stats.failed += 1
        if ok:
            log.info("notification_sent", kind=event.kind.value, seconds=elapsed)
        else:
            log.warning(
                "notification_failed", kind=event.kind.value, status=status, seconds=elapsed
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, send what is queued within `timeout` seconds, abandon the rest."""
        self._accepting = False
        thread = self._thread
        if thread is None:
            return
        deadline = self._monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=max(0.01, timeout))
        thread.join(max(0.0, deadline - self._monotonic()))
        if thread.is_alive():
            left = self._drain()
            with self._lock:
                self._stats.dropped_at_stop += left
            log.warning("notifier_stop_timeout", abandoned=left, timeout_seconds=timeout)
        else:
            log.info("notifier_stopped", **self._log_fields())
        self._thread = None

    def _drain(self) -> int:
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return left
            if item is not _STOP:
                left += 1

    def _log_fields(self) -> dict[str, int]:
        stats = self.stats()
        return {"sent": stats.sent, "failed": stats.failed, "queued": stats.queued}

    def stats(self) -> NotifierStats:
        with self._lock:
            return self._stats.snapshot()
