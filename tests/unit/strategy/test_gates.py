"""Each gate alone: regime start/pause, FOMC blackout, anti-chase, alt lag, risk, cool-down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.signals.regime_types import Regime
from bot.strategy import gates
from bot.strategy.inputs import FlushView, RegimeView
from bot.strategy.plans import Plan, PlanStatus, Tranche
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


def _btc_plan(days_ago: float, start_price: str = "100", plan_id: str = "BTCUSDT-c1") -> Plan:
    return Plan(
        plan_id=plan_id,
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
# Easing for 100 days: every plan below started inside this episode unless it is older.
EPISODE = RegimeView(Regime.EASING, NOW - DAY * 100, NOW - DAY * 100, "test")


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
        pytest.param("SOL/USDT", _btc_plan(400), "300", {}, True, id="btc_plan_of_last_episode"),
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
    reason = gates.alt_lag_gate(symbol, reference, (), price, EPISODE, NOW, p)
    assert (reason is not None) is holds, reason


def _periods(*spans: tuple[float, str]) -> tuple[tuple[datetime, Any], ...]:
    return tuple((NOW - DAY * days_ago, regime) for days_ago, regime in spans)


@pytest.mark.parametrize(
    ("view", "overrides", "days_ago"),
    [
        pytest.param(
            RegimeView(
                Regime.EASING,
                NOW - DAY * 20,
                NOW - DAY * 20,
                "t",
                _periods((300, "tightening"), (90, "neutral"), (20, "easing")),
            ),
            {},
            90,
            id="tightening_to_neutral_to_easing_is_one_episode",
        ),
        pytest.param(
            RegimeView(
                Regime.EASING,
                NOW - DAY * 20,
                NOW - DAY * 20,
                "t",
                _periods((300, "tightening"), (90, "neutral"), (20, "easing")),
            ),
            {"start_regimes": frozenset({"easing"}), "pause_regimes": frozenset()},
            20,
            id="easing_only_starts_the_episode_at_easing",
        ),
        pytest.param(
            RegimeView(
                Regime.NEUTRAL,
                NOW - DAY * 20,
                NOW - DAY * 90,
                "t",
                _periods((300, "tightening"), (90, "easing"), (20, "neutral")),
            ),
            {},
            90,
            id="easing_to_neutral_continues_it",
        ),
        pytest.param(
            RegimeView(Regime.NEUTRAL, NOW - DAY * 20, NOW - DAY * 90, "t"),
            {},
            90,
            id="without_periods_easing_to_neutral_counts_from_the_pivot",
        ),
        pytest.param(
            RegimeView(Regime.EASING, NOW - DAY * 20, NOW - DAY * 20, "override"),
            {},
            20,
            id="without_periods_a_pivot_counts_from_the_regime_start",
        ),
    ],
)
def test_episode_start(view: RegimeView, overrides: dict[str, Any], days_ago: float) -> None:
    assert gates.episode_start(view, params(**overrides)) == NOW - DAY * days_ago


def test_an_alt_waits_for_btcs_plan_of_this_episode_and_says_which_plan_it_measured() -> None:
    """The audit's case: a BTC plan hundreds of days old released the alts on the pivot day."""
    p = params(**ALTS)
    pivot = RegimeView(Regime.NEUTRAL, NOW, NOW, "t", _periods((900, "tightening"), (0, "neutral")))
    old = _btc_plan(700, plan_id="BTCUSDT-c7-old")
    lag = gates.alt_lag("SOL/USDT", old, (), Decimal(300), pivot, NOW, p)
    assert lag.hold is not None
    assert "waiting for BTC/USDT's plan of this regime episode" in lag.hold
    assert "BTCUSDT-c7-old" in lag.hold and "earlier episode" in lag.hold

    fresh = Plan(**{**old.__dict__, "plan_id": "BTCUSDT-c8", "created_at": NOW + DAY * 2})
    waiting = gates.alt_lag("SOL/USDT", fresh, (), Decimal("105"), pivot, NOW + DAY * 5, p)
    assert waiting.hold is not None and "BTCUSDT-c8" in waiting.hold
    assert "gain 5.00% < 10.00%" in waiting.hold and "3.0 of 30 days" in waiting.hold
    started = gates.alt_lag("SOL/USDT", fresh, (), Decimal("110"), pivot, NOW + DAY * 5, p)
    assert started.hold is None
    assert started.note is not None and "BTCUSDT-c8" in started.note
    assert "10.00%" in started.note and "episode since" in started.note
    by_days = gates.alt_lag("SOL/USDT", fresh, (), Decimal(90), pivot, NOW + DAY * 32, p)
    assert by_days.hold is None and by_days.note is not None and "30 days passed" in by_days.note


def _tranche(
    number: int, placed_days_ago: float | None, bought: str = "0", cost: str = "0"
) -> Tranche:
    placed = None if placed_days_ago is None else NOW - DAY * placed_days_ago
    return Tranche(
        plan_id="BTCUSDT-c7-old",
        number=number,
        quote_amount=Decimal(100),
        offset=Decimal(0),
        planned_at=NOW - DAY * 700,
        scheduled_at=NOW - DAY * 700,
        first_placed_at=placed,
        filled_base=Decimal(bought),
        filled_quote=Decimal(cost),
    )


def test_a_plan_held_by_the_pause_until_this_episode_counts_from_its_first_tranche_here() -> None:
    """A BTC plan created in an earlier episode that bought nothing before the pivot is the
    cycle of this episode: the lag counts from its first tranche placed after the pivot."""
    p = params(**ALTS)
    pivot = RegimeView(Regime.NEUTRAL, NOW - DAY * 40, NOW - DAY * 40, "t")
    old = _btc_plan(700, plan_id="BTCUSDT-c7-old")
    held = (_tranche(1, 10, "1", "100"), _tranche(2, None))
    lag = gates.alt_lag("SOL/USDT", old, held, Decimal(105), pivot, NOW, p)
    assert lag.hold is not None and "earlier episode" in lag.hold and "placed" in lag.hold
    lag = gates.alt_lag("SOL/USDT", old, held, Decimal(111), pivot, NOW, p)
    assert lag.hold is None
    bought_before = (_tranche(1, 500, "1", "100"), _tranche(2, 10, "1", "100"))
    lag = gates.alt_lag("SOL/USDT", old, bought_before, Decimal(200), pivot, NOW, p)
    assert lag.hold is not None and "waiting for BTC/USDT's plan of this regime episode" in lag.hold


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


def test_a_flush_after_the_exit_waives_the_cool_down_one_before_it_does_not() -> None:
    closed = _btc_plan(20)
    closed = Plan(**{**closed.__dict__, "status": PlanStatus.CLOSED, "closed_at": NOW - DAY})
    exited = NOW - DAY - timedelta(hours=3)
    after = FlushView(exited + timedelta(hours=2), "BTC/USDT", "cascade", 286.4e6)
    before = FlushView(exited - timedelta(hours=2), "BTC/USDT", "run-up", 50.9e6)
    p = params(cycle_cooldown_days=7.0)
    waiver = gates.cooldown_waiver(closed, exited, after, p)
    assert waiver is not None
    assert waiver.startswith("cool-down waived: liquidation flush at ")
    assert "286.4M" in waiver and "cycle 1 exited" in waiver
    assert gates.cooldown_waiver(closed, exited, before, p) is None
    assert gates.cooldown_waiver(closed, exited, None, p) is None
    assert gates.cooldown_waiver(closed, exited, after, params(flush_waives_cooldown=False)) is None
    # without the exit fill's time, the plan's close time is the exit
    assert gates.cooldown_waiver(closed, None, after, p) is None
