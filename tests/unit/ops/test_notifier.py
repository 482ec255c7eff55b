"""The Apprise notifier against a loopback webhook: delivery, failures, hangs, limits, drops."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import structlog

from bot.config.notify import NotificationKind
from bot.ops.notify.events import NotificationEvent, Severity
from bot.ops.notify.notifier import AppriseNotifier, NullNotifier
from bot.ops.notify.rate_limit import RateLimits
from tests.unit.ops.receiver import loopback_receiver

AT = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)


def event(kind: NotificationKind = NotificationKind.FILL, n: int = 1) -> NotificationEvent:
    return NotificationEvent(kind, f"fill BTC/USDT #{n}", f"buy 0.01 BTC/USDT at {n}", AT)


def test_event_is_posted_to_every_url_with_title_label_and_type() -> None:
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url("a"), rx.url("b")], label="qtbot paper")
        notifier.start()
        stop_loss = NotificationEvent(
            NotificationKind.STOP_LOSS, "stop loss BTC/USDT", "sold", AT, Severity.FAILURE
        )
        assert notifier.notify(stop_loss)
        posts = rx.wait_for(2)
        notifier.stop()
    assert sorted(path for path, _ in posts) == ["/a", "/b"]
    body = posts[0][1]
    assert body["title"] == "qtbot paper: stop loss BTC/USDT"
    assert body["message"] == "sold" and body["type"] == "failure"
    assert notifier.stats().sent == 1 and notifier.stats().failed == 0


def test_receiver_answering_500_is_counted_and_logged_not_raised() -> None:
    with loopback_receiver() as rx, structlog.testing.capture_logs() as logs:
        notifier = AppriseNotifier([rx.url("fail")])
        notifier.start()
        assert notifier.notify(event())
        rx.wait_for(1)
        notifier.stop(timeout=5)
    stats = notifier.stats()
    assert stats.sent == 0 and stats.failed == 1
    failed = [e for e in logs if e["event"] == "notification_failed"]
    assert failed and failed[0]["kind"] == "fill" and failed[0]["log_level"] == "warning"


def test_hung_receiver_never_blocks_notify_and_stop_returns_within_its_timeout() -> None:
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url("hang")], timeout_seconds=0.3, queue_size=2)
        notifier.start()
        started = time.monotonic()
        results = [notifier.notify(event(n=n)) for n in range(10)]
        enqueue_seconds = time.monotonic() - started
        rx.wait_for(1)
        stop_started = time.monotonic()
        notifier.stop(timeout=1.0)
        stop_seconds = time.monotonic() - stop_started
    assert enqueue_seconds < 0.2, "notify() must not wait for the receiver"
    # One is being sent, two wait in the queue, the rest are dropped and counted.
    assert results.count(True) in (2, 3)
    stats = notifier.stats()
    assert stats.dropped_queue_full == results.count(False) >= 7
    assert stop_seconds < 1.5
    assert stats.failed >= 1  # the hung delivery timed out (Apprise deadline)


def test_per_kind_limit_holds_back_a_noisy_kind_but_not_others() -> None:
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url()], limits=RateLimits(per_kind=2, total=10))
        notifier.start()
        fills = [notifier.notify(event(n=n)) for n in range(5)]
        other = notifier.notify(event(NotificationKind.TAKE_PROFIT))
        rx.wait_for(3)
        notifier.stop()
    assert fills == [True, True, False, False, False] and other
    assert notifier.stats().rate_limited == {"fill": 3}
    assert len(rx.posts) == 3


def test_held_back_count_is_reported_with_the_next_delivered_message() -> None:
    clock = [0.0]
    with loopback_receiver() as rx:
        notifier = AppriseNotifier(
            [rx.url()],
            limits=RateLimits(per_kind=1, total=10, window_seconds=60),
            monotonic=lambda: clock[0],
        )
        notifier.start()
        assert notifier.notify(event(n=1))
        assert not notifier.notify(event(n=2))
        assert not notifier.notify(event(n=3))
        clock[0] = 61.0
        assert notifier.notify(event(n=4))
        posts = rx.wait_for(2)
        notifier.stop()
    assert "2 earlier fill messages held back" in posts[1][1]["message"]


def test_global_limit_spares_critical_exits() -> None:
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url()], limits=RateLimits(per_kind=10, total=2))
        notifier.start()
        sent = [notifier.notify(event(n=n)) for n in range(3)]
        stop = notifier.notify(event(NotificationKind.STOP_LOSS))
        rx.wait_for(3)
        notifier.stop()
    assert sent == [True, True, False] and stop


def test_events_before_start_or_after_stop_are_ignored() -> None:
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url()])
        assert not notifier.notify(event())
        notifier.start()
        notifier.stop()
        assert not notifier.notify(event())
    assert rx.posts == []


def test_invalid_url_is_refused_without_echoing_its_token() -> None:
    with pytest.raises(ValueError) as info:
        AppriseNotifier(["json://127.0.0.1:1/ok", "nonsense-secret-token"])
    assert "[2]" in str(info.value) and "secret-token" not in str(info.value)


def test_null_notifier_accepts_nothing_and_never_fails() -> None:
    notifier = NullNotifier()
    notifier.start()
    assert not notifier.notify(event())
    notifier.stop()
    assert notifier.stats().sent == 0
