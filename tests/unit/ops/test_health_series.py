"""Health checks (pure) and the equity series kept in its own table."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.ops.web.health import evaluate_health, health_policy
from bot.state.equity_series import EquityPoint, append_point
from bot.state.memory import MemoryStore
from bot.state.store import HeartbeatView, Store
from tests.unit.ops.seed import NOW, make_context

POLICY = health_policy(heartbeat_seconds=30, venue_probe_seconds=60)


def beat(age_seconds: float, stopped: bool = False) -> HeartbeatView:
    at = NOW - timedelta(seconds=age_seconds)
    return HeartbeatView("daemon", at, 1, "h", "paper", "binance", NOW, at if stopped else None)


@pytest.mark.parametrize(
    ("heartbeat", "store_error", "venue", "ok", "failing"),
    [
        pytest.param(beat(10), None, (NOW, None, None), True, [], id="all_fresh"),
        pytest.param(beat(10), None, (None, None, None), True, [], id="venue_not_probed_yet"),
        pytest.param(beat(91), None, (NOW, None, None), False, ["heartbeat"], id="beat_stale"),
        pytest.param(
            beat(5, stopped=True),
            None,
            (NOW, None, None),
            False,
            ["heartbeat"],
            id="daemon_stopped",
        ),
        pytest.param(None, None, (NOW, None, None), False, ["heartbeat"], id="never_beat"),
        pytest.param(
            beat(10),
            "not writable: disk I/O error",
            (NOW, None, None),
            False,
            ["store"],
            id="store_read_only",
        ),
        pytest.param(
            beat(10),
            None,
            (NOW - timedelta(minutes=4), NOW, "timeout"),
            True,
            [],
            id="venue_blip_within_tolerance",
        ),
        pytest.param(
            beat(10),
            None,
            (NOW - timedelta(minutes=6), NOW, "timeout"),
            False,
            ["exchange"],
            id="venue_down_for_six_minutes",
        ),
        pytest.param(
            beat(10),
            None,
            (None, NOW, "auth failed"),
            False,
            ["exchange"],
            id="venue_never_answered",
        ),
    ],
)
def test_health_verdict(
    heartbeat: HeartbeatView | None,
    store_error: str | None,
    venue: tuple,
    ok: bool,
    failing: list[str],
) -> None:
    report = evaluate_health(NOW, heartbeat, store_error, venue, POLICY)
    assert report.ok is ok
    assert [c.name for c in report.checks if c.ok is False] == failing
    assert report.as_dict()["status"] == ("ok" if ok else "failing")


def test_thresholds_follow_the_heartbeat_interval() -> None:
    assert health_policy(300, 60).heartbeat_max_age == timedelta(seconds=900)
    assert health_policy(5, 60).heartbeat_max_age == timedelta(seconds=90)


def point(minutes: int, value: int) -> EquityPoint:
    return EquityPoint(NOW + timedelta(minutes=minutes), Decimal(value))


def test_series_keeps_the_close_of_each_ten_minutes() -> None:
    points: list[EquityPoint] = []
    for minute in range(0, 31):
        points = append_point(points, point(minute, 100 + minute))
    assert [p.at.minute for p in points] == [9, 19, 29, 30]
    assert [p.equity for p in points] == [109, 119, 129, 130]
    assert append_point(points, point(5, 1)) == points  # older than the last: ignored


def test_series_is_capped() -> None:
    points: list[EquityPoint] = []
    for step in range(10):
        points = append_point(points, point(10 * step, step), max_points=4)
    assert [p.equity for p in points] == [6, 7, 8, 9]


def test_record_equity_round_trips_through_the_store(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    ctx.store.record_equity(NOW, Decimal("10000.5"), Decimal("2500"))
    ctx.store.record_equity(NOW + timedelta(minutes=20), Decimal("10100"))
    series = ctx.store.equity_series()
    assert [p.equity for p in series] == [Decimal("10000.5"), Decimal("10100")]
    assert series[0] == EquityPoint(NOW, Decimal("10000.5"), Decimal("2500"))
    assert ctx.store.current_equity() == EquityPoint(NOW + timedelta(minutes=20), Decimal("10100"))
    ctx.store.close()


def _store(kind: str, tmp_path: Path) -> Store:
    return MemoryStore() if kind == "memory" else Store.open(f"sqlite:///{tmp_path / 'e.sqlite'}")


@pytest.mark.parametrize("kind", ["sql", "memory"])
def test_stored_series_buckets_caps_and_ignores_the_past_like_append_point(
    kind: str, tmp_path: Path
) -> None:
    store = _store(kind, tmp_path)
    expected: list[EquityPoint] = []
    for step, minutes in enumerate([0, 3, 9, 10, 25, 24, 31, 47, 58, 61, 75]):
        p = EquityPoint(NOW + timedelta(minutes=minutes), Decimal(step), Decimal(step * 2))
        store.record_equity(p.at, p.equity, p.cash, max_points=3)
        expected = append_point(expected, p, max_points=3)
        assert store.equity_series() == expected, minutes
    assert store.current_equity() == expected[-1]
    window = store.equity_series(NOW + timedelta(minutes=50), NOW + timedelta(minutes=75))
    assert window == [p for p in expected if 50 <= (p.at - NOW).total_seconds() / 60 < 75]
    store.close()
