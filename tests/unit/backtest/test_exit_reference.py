"""Each exit rule on hand-built candles, checked twice against the same hand-computed answer:
the independent reference (`tests.reference.exit_simulator`) and the backtest engine.

A position of 10 bought at 100 in the first candle (no fees, no slippage unless a case says
so): hard stop 85 (15 %), tier 1 at 120 (+20 %, sells 25 % of what was bought), tier 2 at
150 (+50 %, 25 %), 10 % trailing stop armed after the last tier unless a case says otherwise;
break-even stop after the first tier. Expected exits are (candle, label, share of the bought
amount, price).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.backtest.candles import to_ms
from bot.config.settings import Settings
from exchanges.base import Side
from tests.reference import exit_simulator
from tests.reference.exit_simulator import (
    BuyFill,
    Candles,
    Exit,
    ExitParams,
    Tier,
    params_from_settings,
    simulate_exits,
)
from tests.unit.backtest.kit import START, Bar, hand_run

ENTRY: Bar = (100, 101, 99, 100)  # the first job buys 10 at this open
DAY_MS = int(timedelta(days=1) / timedelta(milliseconds=1))
BOUGHT = Decimal(10)
Expected = tuple[int, str, str, str]  # candle, label, share of the bought amount, price
TOLERANCE = Decimal("1e-6")  # the venue rounds prices to its tick, amounts to 1e-8


@dataclass(frozen=True)
class Case:
    bars: tuple[Bar, ...]
    exits: tuple[Expected, ...]
    risk: dict[str, Any] = field(default_factory=dict)
    fee_pct: float = 0.0
    dust: Decimal = Decimal(0)  # the backtest's markets have none: reference only when > 0


CASES = {
    "tier_sells_at_its_trigger": Case(
        (ENTRY, (110, 125, 105, 122)), ((1, "take_profit1", "0.25", "120"),)
    ),
    "gap_over_a_tier_sells_at_the_open": Case(
        (ENTRY, (130, 135, 128, 132)), ((1, "take_profit1", "0.25", "130"),)
    ),
    "gap_over_two_tiers_sells_both_at_the_open": Case(
        (ENTRY, (160, 165, 158, 162)),
        ((1, "take_profit1", "0.25", "160"), (1, "take_profit2", "0.25", "160")),
    ),
    "stop_gap_sells_at_the_open": Case(
        (ENTRY, (80, 90, 70, 75)), ((1, "stop_loss(hard)", "1", "80"),)
    ),
    "stop_met_on_the_fall_sells_at_its_level": Case(
        (ENTRY, (100, 101, 80, 90)), ((1, "stop_loss(hard)", "1", "85"),)
    ),
    "stop_and_tier_in_one_candle_the_fall_comes_first": Case(
        (ENTRY, (100, 125, 80, 110)), ((1, "stop_loss(hard)", "1", "85"),)
    ),
    "trailing_waits_for_the_last_tier_by_default": Case(
        (ENTRY, (100, 130, 99, 125), (125, 126, 110, 112)), ((1, "take_profit1", "0.25", "120"),)
    ),
    "trailing_armed_after_one_tier_ratchets_to_the_high": Case(
        (ENTRY, (100, 130, 99, 125), (125, 126, 110, 112)),
        ((1, "take_profit1", "0.25", "120"), (2, "trailing_stop", "0.75", "117")),
        risk={"trailing_arm_after_tiers": 1},
    ),
    "trailing_armed_from_entry_follows_the_entry_candle_high": Case(
        (ENTRY, (100, 101, 88, 95)),
        ((1, "trailing_stop", "1", "90.9"),),
        risk={"trailing_arm_after_tiers": 0},
    ),
    "trailing_armed_by_the_activation_gain": Case(
        (ENTRY, (100, 130, 99, 128), (128, 129, 115, 116)),
        ((1, "take_profit1", "0.25", "120"), (2, "trailing_stop", "0.75", "117")),
        risk={"trailing_activation_pct": 25},
    ),
    # After both tiers the stop trails the high of 155 at 139.5. The next candle opens at 170,
    # above the high-water mark: the stop ratchets to 153 at the open, before the fall to 150.
    "gap_up_open_ratchets_the_trailing_stop_before_the_fall": Case(
        (ENTRY, (100, 155, 99, 150), (170, 172, 150, 160)),
        (
            (1, "take_profit1", "0.25", "120"),
            (1, "take_profit2", "0.25", "150"),
            (2, "trailing_stop", "0.5", "153"),
        ),
    ),
    # 1 % fee: B = 100 + (buy fee 1 + tier-1 fee 0.3 per unit bought) / 0.75 = 101.7333 after
    # tier 1. Recomputed after tier 2 it would be 103.35: the fall through both sells at B.
    "break_even_is_fixed_at_the_first_tier": Case(
        (ENTRY, (100, 125, 99, 124), (124, 155, 123, 154), (154, 155, 100, 101)),
        (
            (1, "take_profit1", "0.25", "120"),
            (2, "take_profit2", "0.25", "150"),
            (3, "stop_loss(break_even)", "0.5", "101.73333333"),
        ),
        risk={"trailing_stop_pct": None},
        fee_pct=1.0,
    ),
    # B is fixed after every sale of the observation that first took a tier: the gap takes
    # both tiers at once, so 100 + (1 + 0.4 + 0.4) / 0.5 = 103.6 (not 101.8667 after tier 1).
    "gap_over_two_tiers_fixes_break_even_after_both_sales": Case(
        (ENTRY, (160, 165, 158, 162), (162, 163, 100, 101)),
        (
            (1, "take_profit1", "0.25", "160"),
            (1, "take_profit2", "0.25", "160"),
            (2, "stop_loss(break_even)", "0.5", "103.6"),
        ),
        risk={"trailing_stop_pct": None},
        fee_pct=1.0,
    ),
    "tier_taking_all_that_is_left_ends_the_cycle": Case(
        (ENTRY, (100, 155, 99, 150), (150, 151, 60, 70)),
        ((1, "take_profit1", "0.6", "120"), (1, "take_profit2", "0.4", "150")),
        risk={"take_profit_tiers": "20:60,50:40"},
    ),
    # Tier 2 would leave 0.5, no more than the dust: it sells everything instead.
    "tier_leaving_dust_sells_everything": Case(
        (ENTRY, (100, 155, 99, 150), (150, 151, 60, 70)),
        ((1, "take_profit1", "0.25", "120"), (1, "take_profit2", "0.75", "150")),
        risk={"take_profit_tiers": "20:25,50:70"},
        dust=Decimal("0.5"),
    ),
}
ENGINE_CASES = {name: case for name, case in CASES.items() if case.dust == 0}


def case_settings(case: Case) -> Settings:
    risk: dict[str, Any] = {
        "trailing_arm_after_tiers": None,  # the cases name their arming point when it matters
        "take_profit_tiers": "20:25,50:25",
        "trailing_stop_pct": 10,
        "stop_loss_pct": 15,
        "max_asset_pct": 100,
        "daily_loss_limit_pct": None,
        "max_drawdown_pct": None,
    }
    risk.update(case.risk)
    return Settings(
        risk=risk,
        exchange={"paper_fee_pct": case.fee_pct, "paper_slippage_pct": 0},
        strategy={"budget": "1000", "allocation": "BTC/USDT:100"},
    )


def candles(bars: tuple[Bar, ...]) -> Candles:
    columns = list(zip(*bars, strict=True))
    ts = [to_ms(START) + i * DAY_MS for i in range(len(bars))]
    return Candles("BTC/USDT", ts, columns[0], columns[1], columns[2], columns[3], DAY_MS)


def entry(fee_pct: float) -> BuyFill:
    fee = BOUGHT * 100 * Decimal(str(fee_pct)) / 100
    return BuyFill("BTC/USDT", to_ms(START), BOUGHT, Decimal(100), fee, at_run=True)


def as_rows(exits: list[Exit], bought: Decimal) -> list[tuple[int, str, Decimal, Decimal]]:
    return [
        ((e.bar_ts - to_ms(START)) // DAY_MS, e.label, e.amount / bought, e.price) for e in exits
    ]


def assert_rows(
    got: list[tuple[int, str, Decimal, Decimal]], expected: tuple[Expected, ...]
) -> None:
    want = [(bar, label, Decimal(share), Decimal(price)) for bar, label, share, price in expected]
    assert [(bar, label) for bar, label, *_ in got] == [(bar, label) for bar, label, *_ in want]
    for (_, label, share, price), (_, _, want_share, want_price) in zip(got, want, strict=True):
        assert share == pytest.approx(want_share, rel=TOLERANCE), (label, share, want_share)
        assert price == pytest.approx(want_price, rel=TOLERANCE), (label, price, want_price)


@pytest.mark.parametrize("name", list(CASES))
def test_reference(name: str) -> None:
    case = CASES[name]
    params = params_from_settings(case_settings(case), Decimal(0), case.dust)
    exits = simulate_exits([candles(case.bars)], [entry(case.fee_pct)], params)
    assert_rows(as_rows(exits, BOUGHT), case.exits)


@pytest.mark.parametrize("name", list(ENGINE_CASES))
def test_engine(name: str) -> None:
    """The same answer from the backtest (stops named stop_loss whether hard or break-even)."""
    case = ENGINE_CASES[name]
    result = hand_run(list(case.bars), settings=case_settings(case))
    buys = [f for f in result.fills if f.side is Side.BUY]
    assert [(f.price, to_ms(f.time) // DAY_MS) for f in buys] == [(100, to_ms(START) // DAY_MS)]
    bought = buys[0].amount
    got = [
        (
            (to_ms(f.time) - to_ms(START)) // DAY_MS,
            f.kind if f.tier is None else f"{f.kind}{f.tier}",
            f.amount / bought,
            f.price,
        )
        for f in result.fills
        if f.side is Side.SELL
    ]
    want = tuple(
        (bar, label.split("(")[0], share, price) for bar, label, share, price in case.exits
    )
    assert_rows(got, want)


def test_fill_price_pays_slippage_and_the_fee_is_on_the_fill() -> None:
    params = ExitParams(
        tiers=(Tier(Decimal("0.2"), Decimal("0.25")),),
        trailing_pct=None,
        stop_loss_pct=None,
        slippage=Decimal("0.0005"),
        fee=Decimal("0.001"),
    )
    fill = BuyFill("BTC/USDT", to_ms(START), BOUGHT, Decimal(100), Decimal(1), at_run=True)
    (sale,) = simulate_exits([candles((ENTRY, (110, 125, 105, 122)))], [fill], params)
    assert (sale.level, sale.price, sale.amount) == (120, Decimal("119.94"), Decimal("2.5"))
    assert sale.fee == Decimal("0.001") * Decimal("2.5") * Decimal("119.94")


def test_resting_buy_fills_on_the_fall_and_starts_the_cycle_there() -> None:
    # Bought at 90 on the way down from 100: the stop is 76.5, the low of 70 takes it.
    params = params_from_settings(case_settings(Case((), ())), Decimal(0))
    fill = BuyFill("BTC/USDT", to_ms(START) + 1, BOUGHT, Decimal(90), Decimal(0))
    (sale,) = simulate_exits([candles(((100, 101, 70, 95),))], [fill], params)
    assert (sale.label, sale.price) == ("stop_loss(hard)", Decimal("76.5"))


def test_symbols_are_independent() -> None:
    params = params_from_settings(case_settings(Case((), ())), Decimal(0))
    # Both bought at 100; only BTC's own candle reaches its tier.
    btc = candles((ENTRY, (110, 125, 105, 122)))
    flat = candles((ENTRY, ENTRY))
    eth = Candles("ETH/USDT", flat.ts, flat.open, flat.high, flat.low, flat.close, DAY_MS)
    buys = [entry(0), BuyFill("ETH/USDT", to_ms(START), BOUGHT, Decimal(100), Decimal(0), True)]
    exits = simulate_exits([btc, eth], buys, params)
    assert [(e.symbol, e.label) for e in exits] == [("BTC/USDT", "take_profit1")]


ALLOWED = {"bot.config.settings"}


def test_reference_imports_nothing_of_the_engine() -> None:
    """Only the standard library and the settings: an independent reference, not a copy."""
    source = Path(exit_simulator.__file__).read_text()
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    foreign = {
        m for m in modules if m not in ALLOWED and m.split(".")[0] not in sys.stdlib_module_names
    }
    assert not foreign, f"the reference must not import {sorted(foreign)}"
