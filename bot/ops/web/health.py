"""Is the daemon healthy? Heartbeat fresh, store writable, venue answering. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.state.store import HeartbeatView


@dataclass(frozen=True, slots=True)
class Check:
    """ok: True (fine), False (failing) or None (unknown: no data yet, not a failure)."""

    name: str
    ok: bool | None
    detail: str


@dataclass(frozen=True, slots=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok is not False for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failing",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
        }


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    heartbeat_max_age: timedelta
    venue_max_age: timedelta


def health_policy(heartbeat_seconds: float, venue_probe_seconds: float) -> HealthPolicy:
    """Three missed intervals make a check fail (and never less than 90 s / 5 min)."""
    return HealthPolicy(
        heartbeat_max_age=timedelta(seconds=max(3 * heartbeat_seconds, 90)),
        venue_max_age=timedelta(seconds=max(3 * venue_probe_seconds, 300)),
    )


def _age(now: datetime, then: datetime) -> float:
    return round((now - then).total_seconds(), 1)


def heartbeat_check(beat: HeartbeatView | None, now: datetime, max_age: timedelta) -> Check:
    if beat is None:
        return Check("heartbeat", False, "no heartbeat recorded")
    if beat.stopped_at is not None:
        return Check("heartbeat", False, f"daemon stopped at {beat.stopped_at.isoformat()}")
    age = now - beat.at
    if age > max_age:
        limit = max_age.total_seconds()
        return Check("heartbeat", False, f"last beat {_age(now, beat.at)} s ago (limit {limit})")
    return Check("heartbeat", True, f"last beat {_age(now, beat.at)} s ago")


def store_check(error: str | None, write_failure: str | None = None) -> Check:
    """error: the probe's own write failed; write_failure: the daemon's jobs could not write
    (a probe that updates one row in place can still pass on a full disk)."""
    problems = [p for p in (error, write_failure and f"jobs cannot write: {write_failure}") if p]
    return Check("store", not problems, "; ".join(problems) or "writable")


def venue_check(
    ok_at: datetime | None,
    error_at: datetime | None,
    error: str | None,
    now: datetime,
    max_age: timedelta,
) -> Check:
    if ok_at is None and error_at is None:
        return Check("exchange", None, "not probed yet")
    if ok_at is not None and now - ok_at <= max_age:
        return Check("exchange", True, f"answered {_age(now, ok_at)} s ago")
    since = f"last success {_age(now, ok_at)} s ago" if ok_at else "never answered"
    return Check("exchange", False, f"{since}; last error: {error or 'none'}")


def evaluate_health(
    now: datetime,
    beat: HeartbeatView | None,
    store_error: str | None,
    venue: tuple[datetime | None, datetime | None, str | None],
    policy: HealthPolicy,
    write_failure: str | None = None,
) -> HealthReport:
    """venue: (last success, last failure, last error text) of the venue probe;
    write_failure: why the daemon's jobs could not write the store, if they could not."""
    return HealthReport(
        (
            heartbeat_check(beat, now, policy.heartbeat_max_age),
            store_check(store_error, write_failure),
            venue_check(*venue, now, policy.venue_max_age),
        )
    )
