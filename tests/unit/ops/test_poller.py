"""The journal-tail notification job: restart-safe cursor, filters, stale rows, daily summary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.config.notify import NotificationKind
from bot.ops.notify.events import NotificationEvent
from bot.ops.notify.notifier import AppriseNotifier, NotifierStats
from bot.ops.notify.poller import JournalNotifier
from bot.state.runtime_state import RuntimeState
from tests.unit.ops.receiver import loopback_receiver
from tests.unit.ops.seed import NOW, make_context


class Recorder:
    """A notifier that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[NotificationEvent] = []

    def start(self) -> None:
        return None

    def notify(self, event: NotificationEvent) -> bool:
        self.events.append(event)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        return None

    def stats(self) -> NotifierStats:
        return NotifierStats(sent=len(self.events))


def test_first_run_starts_after_history_then_sends_only_new_rows(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    ctx.store.journal(NOW, "fill", "buy 1 BTC/USDT at 1", symbol="BTC/USDT")
    recorder = Recorder()
    job = JournalNotifier(recorder, summary_hour=None)
    job(ctx, NOW)
    assert recorder.events == []  # history is not news
    ctx.store.journal(NOW, "stop_loss", "20% below entry", symbol="BTC/USDT")
    ctx.store.journal(NOW, "entries_allowed", "fine")
    job(ctx, NOW + timedelta(seconds=15))
    assert [e.kind for e in recorder.events] == [NotificationKind.STOP_LOSS]
    job(ctx, NOW + timedelta(seconds=30))
    assert len(recorder.events) == 1
    ctx.store.close()


def test_restart_neither_repeats_nor_skips(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    first = Recorder()
    JournalNotifier(first, summary_hour=None)(ctx, NOW)
    ctx.store.journal(NOW, "fill", "buy 1 BTC/USDT at 1")
    JournalNotifier(first, summary_hour=None)(ctx, NOW)
    ctx.store.journal(NOW, "fill", "sell 1 BTC/USDT at 2")  # written while "down"
    second = Recorder()
    JournalNotifier(second, summary_hour=None)(ctx, NOW + timedelta(minutes=1))
    assert [e.body for e in first.events] == ["buy 1 BTC/USDT at 1"]
    assert [e.body for e in second.events] == ["sell 1 BTC/USDT at 2"]
    assert RuntimeState(ctx.store).notify_cursor() == 2
    ctx.store.close()


def test_kind_filter_and_stale_rows(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    recorder = Recorder()
    job = JournalNotifier(
        recorder, kinds=frozenset({NotificationKind.STOP_LOSS}), summary_hour=None
    )
    job(ctx, NOW)
    ctx.store.journal(NOW - timedelta(days=1), "stop_loss", "old news")
    ctx.store.journal(NOW, "fill", "buy")
    ctx.store.journal(NOW, "stop_loss", "fresh")
    job(ctx, NOW)
    assert [e.body for e in recorder.events] == ["fresh"]
    ctx.store.close()


def test_daily_summary_goes_out_once_after_its_hour(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    recorder = Recorder()
    job = JournalNotifier(recorder, summary_hour=8)
    day1 = NOW.replace(hour=9)
    job(ctx, day1)  # fresh install: nothing to sum up
    assert recorder.events == []
    ctx.store.journal(day1, "fill", "buy 0.01 BTC/USDT at 60000")
    ctx.store.journal(day1, "take_profit", "gain 20%")
    ctx.store.journal(day1, "job_failed", "boom", level="error")
    ctx.store.record_equity(day1, Decimal(10000))
    ctx.store.record_equity(day1 + timedelta(hours=12), Decimal(10250))
    day2 = day1 + timedelta(days=1)
    job(ctx, day2.replace(hour=7))
    assert all(e.kind is not NotificationKind.DAILY_SUMMARY for e in recorder.events)
    job(ctx, day2.replace(hour=8))
    job(ctx, day2.replace(hour=9))
    summaries = [e for e in recorder.events if e.kind is NotificationKind.DAILY_SUMMARY]
    assert len(summaries) == 1
    body = summaries[0].body
    assert "fills: 1 (buy 1, sell 0)" in body and "take_profit 1" in body
    assert "equity: 10250.00 (+2.50 % from 10000.00)" in body
    assert "errors: 1" in body
    assert RuntimeState(ctx.store).summary_day() == day1.date()
    ctx.store.close()


def test_journal_rows_reach_a_webhook_end_to_end(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    with loopback_receiver() as rx:
        notifier = AppriseNotifier([rx.url()], label="qtbot paper/binance")
        notifier.start()
        job = JournalNotifier(notifier, summary_hour=None)
        job(ctx, NOW)
        ctx.store.journal(
            NOW,
            "trailing_stop",
            "fell 15% below the high-water mark 70000",
            symbol="BTC/USDT",
            amount="0.005",
            price="59500",
        )
        job(ctx, NOW)
        (post,) = rx.wait_for(1)
        notifier.stop()
    assert post[1]["title"] == "qtbot paper/binance: trailing stop BTC/USDT"
    assert post[1]["message"].endswith("(amount 0.005, at 59500)")
    ctx.store.close()
