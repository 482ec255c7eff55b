"""One contract for both stores, part 1: key/value state, journal, heartbeat, the risk switch
and strategy plans. The SQL store (a real SQLite file) and the in-memory one the backtest uses
must answer alike, or a replay would decide differently from the daemon; every test runs on
both backends. Order intents, fills and marks: test_order_repo_contract.py.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.orders.intents import IntentStatus
from bot.state.runtime_state import EQUITY_MARKS_KEY, RISK_OFF_KEY
from bot.state.store import HeartbeatView
from bot.strategy.plans import PlanStatus, TrancheStatus
from exchanges.base import OrderType
from tests.unit.store_contract_kit import (
    CET,
    LATER,
    NAIVE,
    NOW,
    Backend,
    intent,
    outcome,
    plan,
    tranche,
    utc,
)

S = IntentStatus


# --- key/value, journal, heartbeat, risk switch ----------------------------------------------


def test_values_read_back_and_the_last_write_wins(backend: Backend) -> None:
    store = backend.store
    assert store.get_value("sync.cursor") is None
    store.set_value("sync.cursor", "1", NOW)
    store.set_value("other", "x", NOW)
    store.set_value("sync.cursor", "2", LATER.astimezone(CET))
    assert (store.get_value("sync.cursor"), store.get_value("other")) == ("2", "x")


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda b: b.store.journal(NAIVE, "x", "naive"), id="journal"),
        pytest.param(lambda b: b.store.set_value("k", "v", NAIVE), id="set_value"),
        pytest.param(lambda b: b.orders.insert_intent("qtb-1", intent(), NAIVE), id="intent"),
        pytest.param(lambda b: b.store.set_risk_off(True, NAIVE, "pause"), id="risk_off"),
        pytest.param(
            lambda b: b.store.beat(
                "daemon", NAIVE, pid=1, host="h", mode="paper", exchange="x", started_at=NOW
            ),
            id="heartbeat",
        ),
    ],
)
def test_naive_times_are_refused_and_nothing_is_written(
    backend: Backend, write: Callable[[Backend], object]
) -> None:
    with pytest.raises(Exception, match="naive"):
        write(backend)
    store = backend.store
    assert store.recent_journal() == [] and store.get_value("k") is None
    assert not store.risk_off() and store.heartbeat() is None
    assert backend.orders.all() == []


def test_journal_ids_grow_and_recent_lines_come_newest_first(backend: Backend) -> None:
    store = backend.store
    kinds = ["tier_taken", "risk_off", "tier_taken", "plan_started"]
    written = [store.journal(NOW, kind, f"line {i}") for i, kind in enumerate(kinds)]
    assert written == sorted(set(written))

    def messages(limit: int = 20, kind: str | None = None) -> list[str]:
        return [e.message for e in store.recent_journal(limit, kind)]

    assert [e.id for e in store.recent_journal()] == written[::-1]
    assert messages() == ["line 3", "line 2", "line 1", "line 0"]
    assert messages(2) == ["line 3", "line 2"]
    assert messages(kind="tier_taken") == ["line 2", "line 0"]
    assert messages(1, "tier_taken") == ["line 2"]
    assert messages(0) == [] and messages(kind="nothing") == []


def test_journal_data_round_trips_as_json_and_times_as_utc(backend: Backend) -> None:
    store = backend.store
    store.journal(
        NOW.astimezone(CET),
        "tier_taken",
        "tier 1 at +20.4%",
        level="warning",
        symbol="BTC/USDT",
        tier=1,
        sold=Decimal("0.0125"),
        gain=20.4,
        tags=["tp"],
        seen=NOW,
    )
    (entry,) = store.recent_journal()
    assert (entry.kind, entry.level, entry.symbol, entry.message) == (
        "tier_taken",
        "warning",
        "BTC/USDT",
        "tier 1 at +20.4%",
    )
    assert entry.data == {
        "gain": 20.4,
        "seen": str(NOW),
        "sold": "0.0125",
        "tags": ["tp"],
        "tier": 1,
    }
    assert entry.at == NOW and utc(entry.at)


def test_heartbeat_round_trips_and_marks_a_stop(backend: Backend) -> None:
    store = backend.store
    assert store.heartbeat() is None
    started = NOW - timedelta(hours=2)
    common: dict[str, Any] = {"host": "vps", "mode": "paper", "exchange": "binance"}
    store.beat("daemon", NOW.astimezone(CET), pid=7, started_at=started.astimezone(CET), **common)
    beat = store.heartbeat()
    assert beat == HeartbeatView("daemon", NOW, 7, "vps", "paper", "binance", started, None)
    assert utc(beat.at) and utc(beat.started_at)
    store.beat("daemon", LATER, pid=7, started_at=started, stopped=True, **common)
    assert store.heartbeat() == replace(beat, at=LATER, stopped_at=LATER)
    store.beat("daemon", LATER + timedelta(minutes=1), pid=8, started_at=LATER, **common)
    again = store.heartbeat()
    assert again is not None and again.pid == 8 and again.stopped_at is None
    assert store.heartbeat("backtest") is None


def test_resuming_clears_the_switch_and_restarts_the_drawdown_peak(backend: Backend) -> None:
    store = backend.store
    assert not store.risk_off()
    store.set_value(EQUITY_MARKS_KEY, '{"peak": "1000"}', NOW)
    store.set_risk_off(True, NOW, "manual pause")
    assert store.risk_off() and store.get_value(EQUITY_MARKS_KEY) == '{"peak": "1000"}'
    store.set_risk_off(False, LATER, "manual resume")
    assert not store.risk_off() and store.get_value(RISK_OFF_KEY) == "false"
    assert store.get_value(EQUITY_MARKS_KEY) is None
    lines = [(e.kind, e.level, e.message, e.data, e.at) for e in store.recent_journal()]
    assert lines == [
        ("risk_on", "info", "manual resume", {}, LATER),
        ("risk_off", "warning", "manual pause", {}, NOW),
    ]


# --- strategy plans ----------------------------------------------------------------------------


def test_plans_come_oldest_first_filtered_by_symbol_and_status(backend: Backend) -> None:
    repo = backend.plans
    old = plan("p-old", at=NOW - timedelta(days=30), status=PlanStatus.CLOSED)
    b, a = plan("p-b"), plan("p-a")
    eth = plan("p-eth", "ETH/USDT", status=PlanStatus.COMPLETE)
    for p in (b, eth, old, a):
        repo.insert_plan(p, [tranche(p.plan_id, 1)])
    assert outcome(repo.insert_plan, plan("p-b"), [])[0] == "raised"
    assert repo.plans() == [old, a, b, eth]
    assert repo.plans("BTC/USDT") == [old, a, b] and repo.plans("SOL/USDT") == []
    assert repo.plans(statuses=[PlanStatus.ACTIVE]) == [a, b] and repo.plans(statuses=[]) == []
    assert repo.plans("ETH/USDT", [PlanStatus.ACTIVE, PlanStatus.COMPLETE]) == [eth]
    assert repo.current_plan("BTC/USDT") == b == repo.latest_plan("BTC/USDT")
    assert repo.current_plan("ETH/USDT") == eth and repo.current_plan("SOL/USDT") is None
    assert repo.latest_plan("SOL/USDT") is None and repo.plan("p-x") is None
    closed = replace(b, status=PlanStatus.CLOSED, closed_at=LATER, close_reason="exited")
    repo.save(closed)
    assert repo.current_plan("BTC/USDT") == a and repo.latest_plan("BTC/USDT") == closed
    assert repo.plan("p-b") == closed


def test_tranches_come_by_number_and_can_be_saved_alone(backend: Backend) -> None:
    repo = backend.plans
    p = plan("p1")
    third, first, second = (tranche("p1", n) for n in (3, 1, 2))
    repo.insert_plan(p, [third, first, second])
    assert repo.tranches("p1") == (first, second, third) and repo.tranches("p-x") == ()
    changed = replace(
        second,
        status=TrancheStatus.ORDERED,
        attempt=2,
        order_type=OrderType.MARKET,
        order_at=LATER,
        filled_base=Decimal("0.00012345"),
        filled_quote=Decimal("11.2633007"),
        pulled_forward=True,
        hold_reason="FOMC in 3.0 h",
    )
    repo.save(tranches=[changed])
    assert repo.tranches("p1") == (first, changed, third) and repo.plan("p1") == p
    done = replace(p, status=PlanStatus.CLOSED, realized_pnl=Decimal("-3.140"), closed_at=LATER)
    repo.save(done)
    assert repo.plan("p1") == done and str(done.realized_pnl) == "-3.140"
    assert repo.tranches("p1")[1] == changed and utc(repo.tranches("p1")[1].order_at)


def test_plan_and_tranche_times_come_back_in_utc(backend: Backend) -> None:
    backend.plans.insert_plan(plan("p1", at=NOW.astimezone(CET)), [tranche("p1", 1, at=NOW)])
    backend.plans.save(tranches=[tranche("p1", 2, at=NOW.astimezone(CET))])
    got = backend.plans.plan("p1")
    assert got is not None and utc(got.created_at)
    assert all(utc(t.planned_at) and utc(t.scheduled_at) for t in backend.plans.tranches("p1"))


def test_a_plan_with_naive_times_is_refused(backend: Backend) -> None:
    with pytest.raises(Exception, match="naive"):
        backend.plans.insert_plan(plan("p1", at=NAIVE), [])
    assert backend.plans.plan("p1") is None


def test_a_plan_with_two_tranches_of_one_number_is_refused_whole(backend: Backend) -> None:
    twins = [tranche("p1", 1), tranche("p1", 1, quote_amount=Decimal(1))]
    assert outcome(backend.plans.insert_plan, plan("p1"), twins)[0] == "raised"
    assert backend.plans.plan("p1") is None and backend.plans.tranches("p1") == ()


def test_a_tranche_of_an_unknown_plan_is_refused(backend: Backend) -> None:
    assert outcome(backend.plans.save, None, [tranche("p-x", 1)])[0] == "raised"
    assert backend.plans.tranches("p-x") == ()
