"""The engine's shortcuts give what the long way gives, to the last digit.

`evaluate` runs for every position on every tick (thousands of times per backtest trial), so
it asks `tier_due` before working out the minimum sale at the exit floor, reads the hard stop
as a (price, break-even) pair, and takes a position's outcome apart without building a
`PositionResult`. Each test pins one shortcut to the rule it stands in for.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from risk.engine import evaluate, evaluate_position
from risk.limits import kill_switch_reasons
from risk.marks import PositionMarks, tiers_done
from risk.minimums import SaleMinimum
from risk.params import RiskParams
from risk.position import Position, position_from_fills
from risk.stops import StopLevel, hard_stop_level, hard_stop_price
from risk.take_profit import TakeProfitTier, plan_take_profits, tier_due
from tests.unit.risk.factories import SYMBOL, T0, account, buy, sell
from tests.unit.risk.test_engine_properties import ladders, risk_params

SHORTCUT_SETTINGS = settings(max_examples=300, deadline=None)

# Decimals with varied exponents (1.50 and 1.5 both occur): results must match digit for digit.
amounts = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(0, 10**7),
    st.integers(0, 9),
)
positive = amounts.filter(lambda value: value > 0)
optional_amount = st.one_of(st.none(), positive)


def _at_with_max(minimum: SaleMinimum, price: Decimal) -> Decimal:
    """`SaleMinimum.at` as first written, with `max()`: the rule the faster form keeps."""
    need = minimum.amount
    if minimum.notional > 0 and price > 0:
        need = max(need, minimum.notional / price)
    if minimum.step > 0:
        need = max(need, minimum.step)
        need = (need / minimum.step).to_integral_value(rounding=ROUND_CEILING) * minimum.step
    return need


@SHORTCUT_SETTINGS
@given(amounts, amounts, amounts, amounts)
# A tie keeps the amount's own digits (0.50, not the 0.5 of 5 / 10).
@example(Decimal("0.50"), Decimal(5), Decimal(0), Decimal(10))
@example(Decimal("0.0010"), Decimal(0), Decimal("0.001"), Decimal(1))
def test_sale_minimum_is_the_max_rule_digit_for_digit(
    amount: Decimal, notional: Decimal, step: Decimal, price: Decimal
) -> None:
    minimum = SaleMinimum(amount, notional, step)
    got, expected = minimum.at(price), _at_with_max(minimum, price)
    assert got.as_tuple() == expected.as_tuple()


@SHORTCUT_SETTINGS
@given(
    ladders(),
    st.sets(st.integers(1, 4)),
    amounts,
    amounts,
    positive,
    amounts,
    st.sampled_from([Decimal(0), Decimal("0.001")]),
    amounts,
    amounts,
)
@example(
    (TakeProfitTier(Decimal("0.2"), Decimal("0.25")),),
    set(),
    *map(Decimal, (100, 1, 1, 120, 0, 0, 0)),
)
def test_tier_due_says_exactly_when_the_planner_plans(
    tiers: tuple[TakeProfitTier, ...],
    done: set[int],
    entry: Decimal,
    size: Decimal,
    bought: Decimal,
    price: Decimal,
    dust: Decimal,
    minimum: Decimal,
    keep: Decimal,
) -> None:
    planned = plan_take_profits(
        tiers, frozenset(done), entry, size, bought, price, dust, minimum, keep
    )
    assert bool(planned) == (tier_due(tiers, frozenset(done), entry, price) and size > dust)


@SHORTCUT_SETTINGS
@given(
    positive,
    st.one_of(st.none(), st.integers(1, 99).map(lambda n: Decimal(n) / 100)),
    optional_amount,
)
@example(Decimal(100), Decimal("0.15"), Decimal(85))  # a tie: the percentage stop names it
def test_hard_stop_price_is_the_stop_level(
    entry: Decimal, stop_loss_pct: Decimal | None, break_even: Decimal | None
) -> None:
    position = Position(SYMBOL, Decimal(1), entry)
    pair = hard_stop_price(position, stop_loss_pct, break_even)
    level = hard_stop_level(position, stop_loss_pct, break_even)
    assert level == (None if pair is None else StopLevel(*pair))
    candidates = []
    if stop_loss_pct is not None:
        candidates.append(StopLevel(entry * (1 - stop_loss_pct), False))
    if break_even is not None and (not candidates or break_even > candidates[0].price):
        candidates = [StopLevel(break_even, True)]
    assert level == (candidates[0] if candidates else None)


def test_tiers_done_is_taken_plus_skipped() -> None:
    position = position_from_fills(
        SYMBOL, [buy("b1", "1", "100"), sell("s1", "0.25", "120", minutes=1, tier=1)]
    )
    cycle = position.cycle_id or ""
    assert tiers_done(position, None) == {1}
    assert tiers_done(position, PositionMarks(cycle, Decimal(120))) == {1}
    assert tiers_done(
        position, PositionMarks(cycle, Decimal(120), tiers_skipped=frozenset({2}))
    ) == {
        1,
        2,
    }
    assert tiers_done(
        position, PositionMarks("other", Decimal(120), tiers_skipped=frozenset({2}))
    ) == {1}


def test_a_rest_unsellable_at_its_stop_is_swept_into_the_tier_sale() -> None:
    # 55 USDT minimum: at 120 the smallest sale is 0.458 BTC, at the break-even stop (100) it
    # is 0.55. Tier 1 sells 0.5 and would leave 0.5: sellable now, not at its stop.
    params = RiskParams(
        take_profit_tiers=(TakeProfitTier(Decimal("0.2"), Decimal("0.5")),),
        sale_minimums={SYMBOL: SaleMinimum(notional=Decimal(55))},
    )
    position = position_from_fills(SYMBOL, [buy("b1", "1", "100")])
    (sale,) = evaluate_position(position, None, Decimal(120), params).actions
    assert sale.amount == Decimal(1)
    assert "that would be left as dust" in sale.reason
    roomy = replace(params, sale_minimums={SYMBOL: SaleMinimum(notional=Decimal(45))})
    (sale,) = evaluate_position(position, None, Decimal(120), roomy).actions
    assert sale.amount == Decimal("0.5")


@st.composite
def books(draw: st.DrawFn) -> tuple[RiskParams, Position, PositionMarks | None, Decimal]:
    params = replace(
        draw(risk_params()),
        sale_minimums={SYMBOL: SaleMinimum(draw(amounts), draw(amounts), draw(amounts))},
    )
    entry = draw(st.integers(50, 150))
    fills = [buy("b1", str(Decimal(draw(st.integers(5, 300))) / 100), str(entry))]
    for tier in range(1, len(params.take_profit_tiers) + 1):
        if draw(st.booleans()):
            fills.append(sell(f"s{tier}", "0.01", str(entry * 2), minutes=tier, tier=tier))
    position = position_from_fills(SYMBOL, fills, params.dust_for(SYMBOL))
    marks = None
    if draw(st.booleans()):
        high = Decimal(draw(st.integers(entry, 3 * entry)))
        trail = draw(st.one_of(st.none(), st.integers(1, entry).map(Decimal)))
        marks = PositionMarks(
            draw(st.sampled_from([position.cycle_id or "", "old"])),
            high,
            trail,
            draw(st.one_of(st.none(), st.integers(1, 2 * entry).map(Decimal))),
            frozenset(draw(st.sets(st.integers(1, 4)))),
        )
    price = Decimal(draw(st.integers(1, 400)))
    return params, position, marks, price


@SHORTCUT_SETTINGS
@given(books(), st.booleans())
def test_evaluate_gives_what_evaluate_position_gives(
    book: tuple[RiskParams, Position, PositionMarks | None, Decimal], killed: bool
) -> None:
    params, position, marks, price = book
    if killed:
        params = replace(params, flatten_on_kill=True)
    stored = {} if marks is None else {SYMBOL: marks}
    day = account("5000", day_start="10000") if killed else account()
    decision = evaluate({SYMBOL: position}, stored, {SYMBOL: price}, day, params, T0)
    if not position.is_open(params.dust_for(SYMBOL)):
        assert decision.new_marks == {} and decision.actions == []
        return
    kill = kill_switch_reasons(day, params)
    assert bool(kill) == killed
    flatten = "; ".join(kill) if kill else None
    result = evaluate_position(position, marks, price, params, flatten)
    assert decision.actions == result.actions
    assert decision.new_marks == {SYMBOL: result.marks}
    assert decision.unsellable == ({} if result.unsellable is None else {SYMBOL: result.unsellable})
    assert decision.skipped_tiers == [(SYMBOL, tier, why) for tier, why in result.skipped]
