"""Which journal rows become notifications, with which kind and severity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config.notify import NotificationKind
from bot.ops.notify.events import Severity
from bot.ops.notify.journal_map import event_from_journal
from bot.state.store import JournalView

AT = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)


def row(kind: str, message: str = "m", level: str = "info", **data: Any) -> JournalView:
    return JournalView(7, AT, kind, level, data.pop("symbol", None), message, data)


@pytest.mark.parametrize(
    ("entry", "kind", "severity", "title"),
    [
        pytest.param(
            row("fill", "buy 0.01 BTC/USDT at 60000", symbol="BTC/USDT"),
            NotificationKind.FILL,
            Severity.INFO,
            "fill BTC/USDT",
            id="fill",
        ),
        pytest.param(
            row("take_profit", "gain 21%", symbol="ETH/USDT", tier=1, amount="0.05", price="3630"),
            NotificationKind.TAKE_PROFIT,
            Severity.SUCCESS,
            "take-profit tier 1 ETH/USDT",
            id="take_profit_tier",
        ),
        pytest.param(
            row("trailing_stop", "fell 15% from 70000", symbol="BTC/USDT"),
            NotificationKind.TRAILING_STOP,
            Severity.WARNING,
            "trailing stop BTC/USDT",
            id="trailing_stop",
        ),
        pytest.param(
            row("stop_loss", "20% below entry", symbol="BTC/USDT"),
            NotificationKind.STOP_LOSS,
            Severity.FAILURE,
            "stop loss BTC/USDT",
            id="stop_loss",
        ),
        pytest.param(
            row("flatten", "kill switch: drawdown", symbol="SOL/USDT"),
            NotificationKind.FLATTEN,
            Severity.FAILURE,
            "flatten (kill switch) SOL/USDT",
            id="flatten",
        ),
        pytest.param(
            row("panic", "panic: sold all", level="warning"),
            NotificationKind.PANIC,
            Severity.FAILURE,
            "panic: flattening",
            id="panic",
        ),
        pytest.param(
            row(
                "entries_blocked",
                level="warning",
                reasons=["kill switch: daily loss 11% >= limit 10%", "total exposure 99%"],
            ),
            NotificationKind.KILL_SWITCH,
            Severity.FAILURE,
            "kill switch tripped: new entries stopped",
            id="kill_switch",
        ),
        pytest.param(
            row(
                "job_failed",
                "risk_check failed: boom",
                level="error",
                job="risk_check",
                failures_in_a_row=10,
            ),
            NotificationKind.ERROR,
            Severity.FAILURE,
            "risk_check failed 10 times in a row",
            id="repeated_job_failure",
        ),
        pytest.param(
            row("order_rejected", "x rejected", level="warning", symbol="BTC/USDT"),
            NotificationKind.ERROR,
            Severity.WARNING,
            "order rejected BTC/USDT",
            id="order_rejected",
        ),
        pytest.param(
            row("reconcile", "store repaired", level="warning"),
            NotificationKind.ERROR,
            Severity.WARNING,
            "reconcile repaired the store",
            id="reconcile",
        ),
        pytest.param(
            row("regime_pivot", "cut", regime="easing", previous="tightening"),
            NotificationKind.REGIME_PIVOT,
            Severity.WARNING,
            "Fed regime pivot: tightening -> easing",
            id="regime_pivot",
        ),
        pytest.param(
            row("regime", "regime neutral (was unknown)", regime="neutral", previous=None),
            NotificationKind.REGIME_PIVOT,
            Severity.INFO,
            "Fed regime: neutral",
            id="first_regime",
        ),
        pytest.param(
            row("flush", "long liquidations 5.2x the 30-day median", level="warning"),
            NotificationKind.LIQUIDATION_FLUSH,
            Severity.INFO,
            "liquidation flush",
            id="flush_from_signals_job",
        ),
        pytest.param(
            row("plan_started", "BTC/USDT cycle 1: 4 tranches", symbol="BTC/USDT"),
            NotificationKind.PLAN,
            Severity.INFO,
            "entry plan started BTC/USDT",
            id="plan_started",
        ),
        pytest.param(
            row("tranche_failed", "rejected", level="warning", symbol="ETH/USDT"),
            NotificationKind.ERROR,
            Severity.WARNING,
            "tranche rejected ETH/USDT",
            id="tranche_failed",
        ),
        pytest.param(
            row("liquidation_flush", "412M longs", symbol="BTC/USDT"),
            NotificationKind.LIQUIDATION_FLUSH,
            Severity.INFO,
            "liquidation flush BTC/USDT",
            id="liquidation_flush",
        ),
        pytest.param(
            row("something_new", "disk full", level="error"),
            NotificationKind.ERROR,
            Severity.FAILURE,
            "something_new",
            id="unknown_error_kind",
        ),
    ],
)
def test_journal_row_becomes_notification(
    entry: JournalView, kind: NotificationKind, severity: Severity, title: str
) -> None:
    event = event_from_journal(entry)
    assert event is not None
    assert (event.kind, event.severity, event.title) == (kind, severity, title)
    assert event.journal_id == 7 and event.at == AT


def test_take_profit_body_carries_amount_and_price() -> None:
    event = event_from_journal(row("take_profit", "gain 21%", tier=1, amount="0.05", price="3630"))
    assert event is not None and event.body == "gain 21% (amount 0.05, at 3630)"


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(row("entries_blocked", reasons=["total exposure 99%"]), id="exposure_cap"),
        pytest.param(row("entries_allowed"), id="entries_allowed"),
        pytest.param(row("order_placed"), id="routine_info"),
        pytest.param(row("something_new", level="warning"), id="unknown_warning"),
    ],
)
def test_routine_rows_are_not_news(entry: JournalView) -> None:
    assert event_from_journal(entry) is None


def test_exchange_stop_fills_and_missing_stops_are_news() -> None:

    at = datetime(2026, 1, 1, tzinfo=UTC)
    filled = JournalView(1, at, "exchange_stop_filled", "warning", "BTC/USDT", "sold 1", {})
    missing = JournalView(2, at, "exchange_stop_missing", "warning", "BTC/USDT", "none", {})
    assert event_from_journal(filled) is not None
    assert event_from_journal(missing) is not None
