"""The tranche schedule: spacing, order, slide after a hold, flush pull-forward, reprices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.strategy.planner import (
    attempt_type,
    hold,
    is_due,
    limit_price,
    limit_timed_out,
    new_plan,
    next_pending,
    order_amount,
    pull_forward,
    slide_after_hold,
    tranche_minimum,
)
from bot.strategy.plans import Tranche, TrancheStatus
from exchanges.base import Market, OrderType
from tests.unit.strategy.kit import MARKETS, params

T0 = datetime(2025, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)
BTC = MARKETS[0]


def _plan(**kw: object) -> tuple[Tranche, ...]:
    p = params(**kw)
    return new_plan("BTC/USDT", "core", 1, p.budget, Decimal(100), "test", T0, p)[1]


def test_four_tranches_over_21_days_are_a_week_apart_and_split_the_budget() -> None:
    tranches = _plan()
    assert [t.scheduled_at - T0 for t in tranches] == [DAY * 0, DAY * 7, DAY * 14, DAY * 21]
    assert [t.quote_amount for t in tranches] == [Decimal(250)] * 4
    assert [t.cause for t in tranches][:2] == [
        "plan:BTCUSDT-c1-20251201T000000|tranche:1",
        "plan:BTCUSDT-c1-20251201T000000|tranche:2",
    ]


def test_one_tranche_goes_at_the_start() -> None:
    (only,) = _plan(tranches=1)
    assert only.scheduled_at == T0 and only.quote_amount == Decimal(1000)


def test_a_ladder_of_offsets_is_dealt_out_tranche_by_tranche() -> None:
    tranches = _plan(limit_offsets=(Decimal("0.001"), Decimal("0.01")))
    assert [t.offset for t in tranches] == [Decimal("0.001"), Decimal("0.01")] * 2


def test_market_plans_have_no_offset() -> None:
    tranches = _plan(order_type=OrderType.MARKET)
    assert {t.offset for t in tranches} == {Decimal(0)}
    assert {t.order_type for t in tranches} == {OrderType.MARKET}


def test_only_the_first_pending_tranche_can_go_next() -> None:
    tranches = _plan()
    first_done = (replace(tranches[0], status=TrancheStatus.FILLED), *tranches[1:])
    assert next_pending(tranches) == tranches[0]
    assert next_pending(first_done) == tranches[1]
    assert not is_due(tranches[1], T0 + DAY * 6) and is_due(tranches[1], T0 + DAY * 7)


def test_a_held_tranche_slides_the_rest_of_the_schedule_by_the_hold() -> None:
    tranches = _plan()
    held = hold(tranches[0], "regime", "tightening", T0)
    assert hold(held, "fomc", "later", T0 + DAY).held_since == T0  # the first hold counts
    placed_at = T0 + DAY * 3
    slid, delay = slide_after_hold(tranches, held, placed_at)
    assert delay == DAY * 3
    assert [t.scheduled_at - T0 for t in slid] == [DAY * 0, DAY * 10, DAY * 17, DAY * 24]


def test_a_tranche_never_held_moves_nothing() -> None:
    tranches = _plan()
    slid, delay = slide_after_hold(tranches, tranches[0], T0 + DAY)
    assert slid == tranches and delay == timedelta(0)


@pytest.mark.parametrize(
    ("count", "expected_moved", "expected_offsets_days"),
    [
        pytest.param(1, [2], [0, 2, 14, 21], id="one_pulled"),
        pytest.param(2, [2, 3], [0, 2, 2, 21], id="two_pulled"),
        pytest.param(9, [2, 3, 4], [0, 2, 2, 2], id="more_than_left"),
    ],
)
def test_a_flush_pulls_the_next_pending_tranches_to_now(
    count: int, expected_moved: list[int], expected_offsets_days: list[int]
) -> None:
    tranches = _plan()
    tranches = (replace(tranches[0], status=TrancheStatus.FILLED), *tranches[1:])
    pulled, moved = pull_forward(tranches, count, T0 + DAY * 2)
    assert moved == expected_moved
    assert [(t.scheduled_at - T0).days for t in pulled] == expected_offsets_days
    assert sum(t.quote_amount for t in pulled) == Decimal(1000)  # never more than the budget


def test_pulled_forward_tranches_do_not_slide_back_after_a_hold() -> None:
    tranches = _plan()
    pulled, _ = pull_forward(tranches[1:], 1, T0 + DAY)
    tranches = (hold(tranches[0], "fomc", "x", T0), *pulled)
    slid, _ = slide_after_hold(tranches, tranches[0], T0 + DAY * 2)
    assert slid[1].scheduled_at == T0 + DAY  # stays pulled
    assert slid[2].scheduled_at == T0 + DAY * 16  # slid by the 2-day hold


@pytest.mark.parametrize(
    ("attempt", "max_reprices", "convert", "plan_type", "expected"),
    [
        pytest.param(1, 2, True, OrderType.LIMIT, OrderType.LIMIT, id="first_reprice"),
        pytest.param(2, 2, True, OrderType.LIMIT, OrderType.LIMIT, id="last_reprice"),
        pytest.param(3, 2, True, OrderType.LIMIT, OrderType.MARKET, id="then_market"),
        pytest.param(3, 2, False, OrderType.LIMIT, None, id="then_stop"),
        pytest.param(1, 0, True, OrderType.LIMIT, OrderType.MARKET, id="market_at_once"),
        pytest.param(4, 2, True, OrderType.LIMIT, None, id="after_market_nothing"),
        pytest.param(1, 2, True, OrderType.MARKET, None, id="market_plan_no_retry"),
    ],
)
def test_reprice_then_convert_to_market(
    attempt: int,
    max_reprices: int,
    convert: bool,
    plan_type: OrderType,
    expected: OrderType | None,
) -> None:
    p = params(max_reprices=max_reprices, convert_to_market=convert)
    assert attempt_type(attempt, p, plan_type) is expected


def test_limit_times_out_after_the_configured_hours() -> None:
    t = replace(_plan()[0], status=TrancheStatus.ORDERED, order_at=T0)
    p = params(reprice_after_hours=24)
    assert not limit_timed_out(t, T0 + timedelta(hours=23, minutes=59), p)
    assert limit_timed_out(t, T0 + timedelta(hours=24), p)
    market = replace(t, order_type=OrderType.MARKET)
    assert not limit_timed_out(market, T0 + DAY * 5, p)


def test_limit_price_rounds_down_and_amount_leaves_room_for_the_fee() -> None:
    assert limit_price(Decimal("100.00"), Decimal("0.0025"), BTC) == Decimal("99.75")
    assert limit_price(Decimal("100.07"), Decimal("0.001"), BTC) == Decimal("99.96")
    amount = order_amount(Decimal(250), Decimal(100), Decimal("0.001"), BTC)
    assert amount == Decimal("2.49750")
    assert amount * Decimal(100) * Decimal("1.001") <= Decimal(250)


@given(
    operations=st.lists(
        st.tuples(st.sampled_from(["pull", "hold_and_place"]), st.integers(0, 30 * 24)),
        max_size=12,
    )
)
def test_schedule_changes_keep_the_budget_and_the_tranche_order(
    operations: list[tuple[str, int]],
) -> None:
    tranches = _plan()
    now = T0
    for operation, hours in operations:
        now += timedelta(hours=hours)
        if operation == "pull":
            tranches, _ = pull_forward(tranches, 1, now)
            continue
        first = next_pending(tranches)
        if first is None:
            break
        held = hold(first, "regime", "paused", min(now, max(first.scheduled_at, T0)))
        tranches, _ = slide_after_hold(tranches, held, now)
        tranches = tuple(
            replace(t, status=TrancheStatus.FILLED) if t.number == first.number else t
            for t in tranches
        )
    assert sum(t.quote_amount for t in tranches) == Decimal(1000)
    pending = [t for t in tranches if t.status is TrancheStatus.PENDING]
    # Pending tranches stay in number order in time: the schedule never reorders them.
    assert [t.number for t in sorted(pending, key=lambda t: (t.scheduled_at, t.number))] == [
        t.number for t in pending
    ]


def _venue(min_cost: str | None, min_amount: str | None) -> Market:
    return Market(
        symbol="BTC/USDT",
        base="BTC",
        quote="USDT",
        amount_step=Decimal("0.00001"),
        price_tick=Decimal("0.01"),
        min_amount=None if min_amount is None else Decimal(min_amount),
        max_amount=None,
        min_cost=None if min_cost is None else Decimal(min_cost),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


@pytest.mark.parametrize(
    ("min_cost", "min_amount", "price", "minimum"),
    [
        pytest.param("5", "0.00001", "100000", "6.25", id="min_cost_binds"),
        pytest.param("5", "0.001", "100000", "125", id="min_amount_at_the_price_binds"),
        pytest.param(None, "0.001", None, "0", id="no_price_no_amount_check"),
        pytest.param(None, None, "100", "0", id="venue_states_none"),
    ],
)
def test_tranche_minimum_takes_the_larger_venue_limit_with_a_margin(
    min_cost: str | None, min_amount: str | None, price: str | None, minimum: str
) -> None:
    at = None if price is None else Decimal(price)
    assert tranche_minimum(_venue(min_cost, min_amount), at) == Decimal(minimum)


def test_new_plan_takes_a_smaller_tranche_count_and_refuses_none() -> None:
    plan, tranches = new_plan(
        "BTC/USDT", "core", 1, Decimal(20), Decimal(100), "test", T0, params(), 3
    )
    assert [t.number for t in tranches] == [1, 2, 3]
    assert sum(t.quote_amount for t in tranches) == plan.budget == Decimal(20)
    assert tranches[-1].planned_at == T0 + 21 * DAY
    with pytest.raises(ValueError, match="at least one tranche"):
        new_plan("BTC/USDT", "core", 1, Decimal(20), Decimal(100), "test", T0, params(), 0)
