"""/metrics in the Prometheus text exposition format (0.0.4). Rendering is pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from bot.ops.notify.notifier import NotifierStats
from bot.ops.web.health import HealthReport
from bot.ops.web.snapshot import Snapshot
from bot.ops.web.state import OpsState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "qtbot_"

Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str
    type: Literal["gauge", "counter"]
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float | Decimal | int | None, **labels: str) -> Family:
        if value is not None:
            self.samples.append((tuple(sorted(labels.items())), float(value)))
        return self


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def render(families: Iterable[Family]) -> str:
    """Families -> exposition text; families without samples are left out."""
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        name = PREFIX + family.name
        lines.append(f"# HELP {name} {family.help}")
        lines.append(f"# TYPE {name} {family.type}")
        for labels, value in family.samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(
                f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


def _ts(when: datetime | None) -> float | None:
    return when.timestamp() if when else None


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def _account(snap: Snapshot) -> list[Family]:
    view = snap.view
    size = Family("position_size", "gauge", "open position size, base units")
    value = Family("position_value_quote", "gauge", "position value at the last price, quote")
    upnl = Family("position_unrealized_pnl_quote", "gauge", "unrealized PnL, quote currency")
    gain = Family("position_gain_ratio", "gauge", "gain over the average entry (0.2 = +20 %)")
    total = Decimal(0)
    for p in view.get("positions", []):
        symbol = p["symbol"]
        size.add(_dec(p["size"]), symbol=symbol)
        if p.get("last_price"):
            worth = Decimal(p["size"]) * Decimal(p["last_price"])
            total += worth
            value.add(worth, symbol=symbol)
        upnl.add(_dec(p.get("unrealized_pnl")), symbol=symbol)
        pct = _dec(p.get("gain_pct"))
        gain.add(pct / 100 if pct is not None else None, symbol=symbol)
    orders = Family("open_orders", "gauge", "orders resting at the venue")
    counts: dict[tuple[str, str], int] = {}
    for o in view.get("open_orders", []):
        counts[(o["symbol"], o["side"])] = counts.get((o["symbol"], o["side"]), 0) + 1
    for (symbol, side), n in sorted(counts.items()):
        orders.add(n, symbol=symbol, side=side)
    drawdown = None
    if snap.equity is not None and snap.equity_peak:
        drawdown = max(Decimal(0), 1 - snap.equity / snap.equity_peak)
    return [
        Family("equity_quote", "gauge", "account equity, quote currency").add(snap.equity),
        Family("cash_quote", "gauge", "free quote currency").add(snap.cash),
        Family("equity_peak_quote", "gauge", "equity peak (drawdown base)").add(snap.equity_peak),
        Family("equity_day_start_quote", "gauge", "equity at the UTC day start").add(
            snap.equity_day_start
        ),
        Family("drawdown_ratio", "gauge", "drawdown from the equity peak").add(drawdown),
        Family("exposure_quote", "gauge", "value of all open positions, quote").add(total),
        size,
        value,
        upnl,
        gain,
        orders.add(0 if not counts else None),
        Family("entries_blocked", "gauge", "1 while a risk limit blocks new entries").add(
            1 if view.get("entries_blocked_by") else 0
        ),
        Family("risk_off", "gauge", "1 while new entries are paused").add(
            1 if view.get("risk_off") else 0
        ),
    ]


def _signals(snap: Snapshot) -> list[Family]:
    regime = Family("regime", "gauge", "current Fed regime (1 on its label)")
    if snap.regime:
        regime.add(1, regime=str(snap.regime))
    return [
        regime,
        Family("regime_pivot_timestamp_seconds", "gauge", "time of the last regime change").add(
            _ts(snap.regime_pivot_at)
        ),
        Family(
            "liquidation_flush_timestamp_seconds", "gauge", "time of the last liquidation flush"
        ).add(_ts(snap.last_flush_at)),
    ]


def _daemon(snap: Snapshot, state: OpsState | None, health: HealthReport) -> list[Family]:
    beat = snap.heartbeat
    families = [
        Family("heartbeat_age_seconds", "gauge", "age of the last heartbeat").add(
            (snap.at - beat.at).total_seconds() if beat else None
        ),
        Family("health_ok", "gauge", "1 when /healthz passes").add(1 if health.ok else 0),
    ]
    check = Family("health_check", "gauge", "1 ok, 0 failing (unknown checks left out)")
    for c in health.checks:
        if c.ok is not None:
            check.add(1 if c.ok else 0, check=c.name)
    families.append(check)
    events = Family("journal_events_total", "counter", "journal rows by kind and level")
    for (kind, level), n in sorted(snap.journal_counts.items()):
        events.add(n, kind=kind, level=level)
    families.append(events)
    if state is None:
        return families
    runs = Family("job_runs_total", "counter", "successful job runs since start")
    fails = Family("job_failures_total", "counter", "failed job runs since start")
    streak = Family("job_failures_in_a_row", "gauge", "consecutive failures of a job")
    errors = Family("job_errors_total", "counter", "job failures by exception type")
    last_ok = Family("job_last_success_timestamp_seconds", "gauge", "last successful run")
    lag = Family("job_lag_seconds", "gauge", "how late the last run started vs its interval")
    took = Family("job_duration_seconds", "gauge", "wall time of the last run")
    for name, stat in sorted(state.jobs.items()):
        runs.add(stat.runs, job=name)
        fails.add(stat.failures, job=name)
        streak.add(stat.failures_in_a_row, job=name)
        for error, n in sorted(stat.errors_by_type.items()):
            errors.add(n, job=name, error=error)
        last_ok.add(_ts(stat.last_success), job=name)
        lag.add(stat.last_lag_seconds, job=name)
        took.add(stat.last_duration_seconds, job=name)
    venue = Family("venue_last_success_timestamp_seconds", "gauge", "last answer of the venue")
    return [
        *families,
        runs,
        fails,
        streak,
        errors,
        last_ok,
        lag,
        took,
        venue.add(_ts(state.venue_ok_at)),
    ]


def _notifications(stats: NotifierStats | None) -> list[Family]:
    if stats is None:
        return []
    total = Family("notifications_total", "counter", "notifications by outcome since start")
    total.add(stats.sent, outcome="sent").add(stats.failed, outcome="failed")
    total.add(stats.dropped_queue_full, outcome="dropped_queue_full")
    total.add(stats.dropped_at_stop, outcome="dropped_at_stop")
    limited = Family("notifications_rate_limited_total", "counter", "held back by the limits")
    for kind, n in sorted(stats.rate_limited.items()):
        limited.add(n, kind=kind)
    return [total, limited]


def metric_families(
    snap: Snapshot,
    health: HealthReport,
    state: OpsState | None = None,
    notifier_stats: NotifierStats | None = None,
    info: dict[str, str] | None = None,
) -> list[Family]:
    families = [
        Family("info", "gauge", "constant 1, labelled with mode and venue").add(1, **(info or {}))
    ]
    return (
        families
        + _account(snap)
        + _signals(snap)
        + _daemon(snap, state, health)
        + _notifications(notifier_stats)
    )
