"""Strategy parameters: documented defaults, settings in percent -> fractions, validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.config.settings import Settings
from bot.config.trading import StrategySettings
from bot.strategy.params import (
    AntiChaseAction,
    BudgetMode,
    StrategyParams,
)
from exchanges.base import OrderType


def test_settings_percent_become_fractions_and_the_rest_keeps_defaults() -> None:
    settings = Settings(
        strategy={
            "budget": "5000",
            "allocation": "BTC/USDT:50,ETH/USDT:30,SOL/USDT:10,AAVE/USDT:10",
            "core_assets": "btc, eth",
            "alt_cap_pct": 25,
            "tranches": 6,
            "entry_window_days": 28,
        }
    )
    p = settings.strategy.params()
    assert p.budget == Decimal(5000)
    assert p.allocation == (
        ("BTC/USDT", Decimal("0.5")),
        ("ETH/USDT", Decimal("0.3")),
        ("SOL/USDT", Decimal("0.1")),
        ("AAVE/USDT", Decimal("0.1")),
    )
    assert p.core_assets == frozenset({"BTC", "ETH"})
    assert p.alt_cap == Decimal("0.25")
    assert (p.tranches, p.entry_window_days) == (6, 28.0)
    assert p.order_type is OrderType.LIMIT and p.budget_mode is BudgetMode.FIXED
    assert p.quote == "USDT" and p.reference_symbol == "BTC/USDT"


def test_every_strategy_setting_reaches_the_parameters() -> None:
    section = StrategySettings(
        budget=Decimal(100),
        allocation="BTC/USDT:100",
        core_assets="BTC",
        alt_cap_pct=30.0,
        tranches=3,
        entry_window_days=14.0,
        order_type="market",
        limit_offsets_pct="0.1,0.5",
        anti_chase_pct=None,
        anti_chase_action="skip",
        alt_lag_gain_pct=25,
        budget_mode="compounding",
        start_regimes="easing",
        pivot_window_days=60,
    )
    p = section.params()
    assert p.order_type is OrderType.MARKET
    assert p.limit_offsets == (Decimal("0.001"), Decimal("0.005"))
    assert p.anti_chase_pct is None and p.anti_chase_action is AntiChaseAction.SKIP
    assert p.alt_lag_gain == Decimal("0.25") and p.budget_mode is BudgetMode.COMPOUNDING
    assert p.start_regimes == frozenset({"easing"}) and p.pivot_window_days == 60.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"budget": Decimal(0)}, "budget", id="zero_budget"),
        pytest.param(
            {"allocation": (("BTC/USDT", Decimal("0.5")),)}, "sum to 1", id="weights_not_one"
        ),
        pytest.param({"alt_cap": Decimal("1.5")}, "alt_cap", id="alt_cap_above_one"),
        pytest.param({"tranches": 0}, "tranches", id="no_tranches"),
        pytest.param({"limit_offsets": (Decimal(1),)}, "limit_offsets", id="offset_100pct"),
        pytest.param({"start_regimes": frozenset({"boom"})}, "regimes", id="unknown_regime"),
        pytest.param(
            {"start_regimes": frozenset({"tightening"})}, "both", id="start_and_pause_overlap"
        ),
        pytest.param({"anti_chase_pct": Decimal(0)}, "anti_chase_pct", id="anti_chase_zero"),
        pytest.param({"max_reprices": -1}, "max_reprices", id="negative_reprices"),
        pytest.param({"cycle_cooldown_days": -1.0}, "cooldown", id="negative_cooldown"),
    ],
)
def test_invalid_parameters_are_refused_with_the_field_named(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        StrategyParams(**change)
