"""Each gate alone: regime start/pause, FOMC blackout, anti-chase, alt lag, risk, cool-down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.strategy import gates
from bot.strategy.inputs import RegimeView
from bot.strategy.plans import Plan, PlanStatus
from exchanges.base import OrderType
from tests.unit.strategy.kit import params

NOW = datetime(2026, 1, 15, tzinfo=UTC)
DAY = timedelta(days=1)


def _view(name: str, pivot_days_ago: float | None = 10) -> RegimeView:
    pivot = None if pivot_days_ago is None else NOW - DAY * pivot_days_ago
    return RegimeView(name, NOW - DAY * 40, pivot, "test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "overrides", "holds"),
    [
        pytest.param(_view("easing"), {}, False, id="easing_starts"),
        pytest.param(_view("neutral"), {}, False, id="neutral_starts_by_default"),
        pytest.param(_view("tightening"), {}, True, id="tightening_waits"),
        pytest.param(None, {}, True, id="unknown_regime_waits"),
        pytest.param(
            _view("neutral"), {"start_regimes": frozenset({"easing"})}, True, id="easing_only"
        ),
        pytest.param(
            _view("easing", 10), {"pivot_window_days": 30.0}, False, id="recent_pivot_starts"
        ),
        pytest.param(_view("easing", 45), {"pivot_window_days": 30.0}, True, id="old_pivot"),
        pytest.param(_view("easing", None), {"pivot_window_days": 30.0}, True, id="no_pivot"),
    ],
)
def test_regime_start_gate(view: RegimeView | None, overrides: dict[str, Any], holds: bool) -> None:
    reason = gates.regime_start_gate(view, NOW, params(**overrides))
    assert (reason is not None) is holds


@pytest.mark.parametrize(
    ("view", "holds"),
    [
        pytest.param(_view("tightening"), True, id="tightening_pauses"),
        pytest.param(_view("neutral"), False, id="neutral_runs"),
        pytest.param(_view("easing"), False, id="easing_runs"),
        pytest.param(None, True, id="no_signal_waits"),
    ],
)
def test_regime_pause_gate(view: RegimeView | None, holds: bool) -> None:
    reason = gates.regime_pause_gate(view, params())
    assert (reason is not None) is holds
    if view is not None and holds:
        assert "tightening" in reason  # type: ignore[operator]


@pytest.mark.parametrize(
    ("hours", "blackout", "holds"),
    [
        pytest.param(30.0, 24.0, False, id="before_blackout"),
        pytest.param(23.9, 24.0, True, id="inside_blackout"),
        pytest.param(0.0, 24.0, True, id="at_the_decision"),
        pytest.param(None, 24.0, False, id="calendar_exhausted"),
        pytest.param(1.0, 0.0, False, id="blackout_off"),
    ],
)
def test_fomc_blackout(hours: float | None, blackout: float, holds: bool) -> None:
    reason = gates.fomc_gate(hours, params(fomc_blackout_hours=blackout))
    assert (reason is not None) is holds
    if holds:
        assert "FOMC" in reason  # type: ignore[operator]


@pytest.mark.parametrize(
    ("price", "closes", "holds"),
    [
        pytest.param("109", ["100"] * 20, False, id="nine_pct_above_average"),
        pytest.param("111", ["100"] * 20, True, id="eleven_pct_above_average"),
        pytest.param("110", ["100"] * 20, False, id="exactly_at_the_limit"),
        pytest.param("150", [], False, id="no_history_lets_through"),
        pytest.param("120", ["90", "110"], True, id="short_history_still_judged"),
        pytest.param("80", ["100"] * 5, False, id="below_average"),
    ],
)
def test_anti_chase(price: str, closes: list[str], holds: bool) -> None:
    p = params(anti_chase_pct=Decimal("0.10"))
    reason = gates.anti_chase_gate(Decimal(price), [Decimal(c) for c in closes], p)
    assert (reason is not None) is holds


def test_anti_chase_off_never_holds() -> None:
    assert gates.anti_chase_gate(Decimal(1000), [Decimal(1)], params(anti_chase_pct=None)) is None


def test_anti_chase_delay_expires_after_the_max_delay_from_the_due_time() -> None:
    p = params(anti_chase_max_delay_days=7.0)
    assert not gates.anti_chase_expired(NOW, NOW + DAY * 6, p)
    assert gates.anti_chase_expired(NOW, NOW + DAY * 7, p)


def _btc_plan(days_ago: float, start_price: str = "100") -> Plan:
    return Plan(
        plan_id="BTCUSDT-c1",
        symbol="BTC/USDT",
        cycle=1,
        kind="core",
        status=PlanStatus.ACTIVE,
        budget=Decimal(500),
        order_type=OrderType.LIMIT,
        created_at=NOW - DAY * days_ago,
        start_price=Decimal(start_price),
        start_reason="test",
    )


ALTS = {
    "allocation": (("BTC/USDT", Decimal("0.8")), ("SOL/USDT", Decimal("0.2"))),
    "alt_lag_gain": Decimal("0.10"),
    "alt_lag_days": 30.0,
}


@pytest.mark.parametrize(
    ("symbol", "reference", "btc_price", "overrides", "holds"),
    [
        pytest.param("SOL/USDT", None, None, {}, True, id="btc_plan_not_started"),
        pytest.param("SOL/USDT", _btc_plan(5), "105", {}, True, id="btc_up_5pct_after_5d"),
        pytest.param("SOL/USDT", _btc_plan(5), "110", {}, False, id="btc_up_10pct"),
        pytest.param("SOL/USDT", _btc_plan(30), "90", {}, False, id="thirty_days_passed"),
        pytest.param("SOL/USDT", _btc_plan(29), "90", {}, True, id="btc_down_29_days"),
        pytest.param("SOL/USDT", _btc_plan(60), "90", {"alt_lag_days": None}, True, id="gain_only"),
        pytest.param(
            "SOL/USDT",
            _btc_plan(1),
            "100",
            {"alt_lag_days": None, "alt_lag_gain": None},
            False,
            id="lag_off",
        ),
        pytest.param("BTC/USDT", None, None, {}, False, id="core_never_lags"),
    ],
)
def test_alt_lag(
    symbol: str,
    reference: Plan | None,
    btc_price: str | None,
    overrides: dict[str, Any],
    holds: bool,
) -> None:
    p = params(**{**ALTS, **overrides})
    price = Decimal(btc_price) if btc_price else None
    reason = gates.alt_lag_gate(symbol, reference, price, NOW, p)
    assert (reason is not None) is holds, reason


def test_risk_gate_names_the_block_reasons() -> None:
    assert gates.risk_gate([]) is None
    reason = gates.risk_gate(["kill switch: drawdown 31% >= max 30%"])
    assert reason is not None and "drawdown" in reason


def test_cooldown_runs_from_the_close_of_the_last_cycle() -> None:
    closed = _btc_plan(20)
    closed = Plan(**{**closed.__dict__, "status": PlanStatus.CLOSED, "closed_at": NOW - DAY * 6})
    p = params(cycle_cooldown_days=7.0)
    assert gates.cooldown_gate(closed, NOW, p) is not None
    assert gates.cooldown_gate(closed, NOW + DAY, p) is None
    assert gates.cooldown_gate(None, NOW, p) is None
