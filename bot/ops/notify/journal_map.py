"""Which journal rows become notifications, and how they read. Pure: no I/O, no clock.

The journal kinds are the ones the daemon writes: exits, the kill switch and blocked entries
(bot/jobs/risk_check.py), fills, rejected or unknown orders, reconcile repairs and venue rows
that could not be read (`venue_row_skipped`) (bot/execution/manager.py), exchange stops
(bot/jobs/protective_stops.py), the panic (bot/jobs/panic.py), job failures and lifecycle
(bot/runtime/daemon.py, bot/runtime/app.py), the pause switch (`risk_off`/`risk_on`,
bot/state/store.py), signals (bot/jobs/signals.py: `regime`, `regime_pivot` with data
`regime`/`previous`, `flush`, `signal_warning`) and entry plans (bot/jobs/entry: `plan_*`,
`tranche_failed`, `entry_error`, `entry_recovered`). Rows of an unknown kind are not sent
unless they are errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config.notify import NotificationKind
from bot.ops.notify.events import NotificationEvent, Severity
from bot.state.store import JournalView

KILL_SWITCH_PREFIX = "kill switch"
REGIME_PIVOT_KINDS = frozenset({"regime_pivot", "regime"})
FLUSH_KINDS = frozenset({"liquidation_flush", "flush"})


def _where(entry: JournalView) -> str:
    return f" {entry.symbol}" if entry.symbol else ""


def _price_line(data: dict[str, Any]) -> str:
    parts = []
    if data.get("amount"):
        parts.append(f"amount {data['amount']}")
    if data.get("price"):
        parts.append(f"at {data['price']}")
    return (" (" + ", ".join(parts) + ")") if parts else ""


def _event(
    entry: JournalView, kind: NotificationKind, severity: Severity, title: str, body: str
) -> NotificationEvent:
    return NotificationEvent(
        kind=kind,
        title=title,
        body=body,
        at=entry.at,
        severity=severity,
        symbol=entry.symbol,
        journal_id=entry.id,
    )


def _fill(e: JournalView) -> NotificationEvent:
    return _event(e, NotificationKind.FILL, Severity.INFO, f"fill{_where(e)}", e.message)


def _exit(
    kind: NotificationKind, severity: Severity, what: str
) -> Callable[[JournalView], NotificationEvent]:
    def build(e: JournalView) -> NotificationEvent:
        tier = e.data.get("tier")
        label = f"{what} {tier}" if kind is NotificationKind.TAKE_PROFIT and tier else what
        return _event(e, kind, severity, f"{label}{_where(e)}", e.message + _price_line(e.data))

    return build


def _panic(e: JournalView) -> NotificationEvent:
    return _event(e, NotificationKind.PANIC, Severity.FAILURE, "panic: flattening", e.message)


def _entries_blocked(e: JournalView) -> NotificationEvent | None:
    reasons = e.data.get("reasons") or e.message.split("; ")
    kill = [r for r in reasons if str(r).lower().startswith(KILL_SWITCH_PREFIX)]
    if not kill:
        return None  # exposure caps block entries routinely; only the kill switch is news
    return _event(
        e,
        NotificationKind.KILL_SWITCH,
        Severity.FAILURE,
        "kill switch tripped: new entries stopped",
        "\n".join(str(r) for r in kill),
    )


def _job_failed(e: JournalView) -> NotificationEvent:
    count = int(e.data.get("failures_in_a_row") or 1)
    job = e.data.get("job", "a job")
    title = f"{job} failed" if count == 1 else f"{job} failed {count} times in a row"
    return _event(e, NotificationKind.ERROR, Severity.FAILURE, title, e.message)


def _warning(title: str) -> Callable[[JournalView], NotificationEvent]:
    def build(e: JournalView) -> NotificationEvent:
        return _event(e, NotificationKind.ERROR, Severity.WARNING, f"{title}{_where(e)}", e.message)

    return build


def _lifecycle(title: str, severity: Severity) -> Callable[[JournalView], NotificationEvent]:
    def build(e: JournalView) -> NotificationEvent:
        return _event(e, NotificationKind.LIFECYCLE, severity, title, e.message)

    return build


def _pivot(e: JournalView) -> NotificationEvent:
    new, old = e.data.get("regime"), e.data.get("previous")
    what = "Fed regime pivot" if e.kind == "regime_pivot" else "Fed regime"
    title = f"{what}: {old} -> {new}" if new and old else f"{what}: {new or 'changed'}"
    severity = Severity.WARNING if e.kind == "regime_pivot" else Severity.INFO
    return _event(e, NotificationKind.REGIME_PIVOT, severity, title, e.message)


def _plan(title: str, severity: Severity) -> Callable[[JournalView], NotificationEvent]:
    def build(e: JournalView) -> NotificationEvent:
        return _event(e, NotificationKind.PLAN, severity, f"{title}{_where(e)}", e.message)

    return build


def _flush(e: JournalView) -> NotificationEvent:
    return _event(
        e,
        NotificationKind.LIQUIDATION_FLUSH,
        Severity.INFO,
        f"liquidation flush{_where(e)}",
        e.message,
    )


_BUILDERS: dict[str, Callable[[JournalView], NotificationEvent | None]] = {
    "fill": _fill,
    "take_profit": _exit(NotificationKind.TAKE_PROFIT, Severity.SUCCESS, "take-profit tier"),
    "trailing_stop": _exit(NotificationKind.TRAILING_STOP, Severity.WARNING, "trailing stop"),
    "stop_loss": _exit(NotificationKind.STOP_LOSS, Severity.FAILURE, "stop loss"),
    "flatten": _exit(NotificationKind.FLATTEN, Severity.FAILURE, "flatten (kill switch)"),
    "exchange_stop_filled": _exit(
        NotificationKind.STOP_LOSS, Severity.FAILURE, "exchange stop filled"
    ),
    "exchange_stop_missing": _warning("no stop resting on the exchange"),
    "exit_waiting": _warning("exit waiting"),
    "exit_resumed": _warning("exit sent after waiting"),
    "exit_continued": _warning("exit continued"),
    "tier_skipped": _warning("take-profit tier skipped"),
    "position_unsellable": _warning("position too small to sell"),
    "exchange_stop_unsupported": _warning("exchange takes no stop orders"),
    "kill_switch_rearmed": _warning("kill switch re-armed"),
    "panic": _panic,
    "entries_blocked": _entries_blocked,
    "job_failed": _job_failed,
    "order_rejected": _warning("order rejected"),
    "order_unknown": _warning("order outcome unknown"),
    "reconcile": _warning("reconcile repaired the store"),
    "venue_row_skipped": _warning("unreadable venue row skipped"),
    "tranche_failed": _warning("tranche rejected"),
    "entry_error": _warning("entries failing"),
    "signal_warning": _warning("signal data warning"),
    "plan_started": _plan("entry plan started", Severity.INFO),
    "plan_complete": _plan("entry plan complete", Severity.SUCCESS),
    "plan_closed": _plan("entry plan closed", Severity.INFO),
    "entry_recovered": _plan("entries work again", Severity.INFO),
    "daemon_started": _lifecycle("daemon started", Severity.INFO),
    "daemon_stopped": _lifecycle("daemon stopped", Severity.INFO),
    "risk_off": _lifecycle("new entries paused", Severity.WARNING),
    "risk_on": _lifecycle("new entries resumed", Severity.INFO),
    **{kind: _pivot for kind in REGIME_PIVOT_KINDS},
    **{kind: _flush for kind in FLUSH_KINDS},
}


def event_from_journal(entry: JournalView) -> NotificationEvent | None:
    """The notification a journal row deserves, or None when it is not news."""
    build = _BUILDERS.get(entry.kind)
    if build is not None:
        return build(entry)
    if entry.level in ("error", "critical"):
        return _event(
            entry,
            NotificationKind.ERROR,
            Severity.FAILURE,
            f"{entry.kind}{_where(entry)}",
            entry.message,
        )
    return None
