"""Properties of the risk engine over random price paths, checked by simulating the fills.

Each path starts with one buy; steps move the price or add a staggered buy. After every
evaluation the returned actions are applied as sell fills at the decision price (with a fee),
the marks are carried forward, and the invariants are checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from risk.actions import Action, ActionKind
from risk.engine import evaluate
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import FillSide, Position, PositionFill, apply_fill, position_from_fills
from risk.take_profit import DEFAULT_TAKE_PROFIT_TIERS, TakeProfitTier
from tests.unit.risk.factories import SYMBOL, T0, account

CENT = Decimal("0.01")
FEE_RATE = Decimal("0.001")
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)

# A step is a price move in percent ("move", n), a buy of n/100 units ("buy", n) or a manual
# sell outside the engine of up to n/100 units ("sell", n). Moves lean upwards so that paths
# reach the tiers and the trailing stop, not only the hard stop.
moves = st.tuples(st.just("move"), st.integers(-20, 30))
buys = st.tuples(st.just("buy"), st.integers(1, 200))
manual_sells = st.tuples(st.just("sell"), st.integers(1, 100))
steps_strategy = st.lists(
    st.one_of(moves, moves, moves, buys, manual_sells), min_size=5, max_size=60
)
price_only_steps = st.lists(moves, min_size=5, max_size=60)


def pct(n: int) -> Decimal:
    return Decimal(n) / 100


@st.composite
def ladders(draw: st.DrawFn) -> tuple[TakeProfitTier, ...]:
    count = draw(st.integers(0, 4))
    gains = sorted(draw(st.sets(st.integers(1, 150), min_size=count, max_size=count)))
    cap = 100 // max(count, 1)
    return tuple(TakeProfitTier(pct(g), pct(draw(st.integers(1, cap)))) for g in gains)


@st.composite
def risk_params(draw: st.DrawFn) -> RiskParams:
    optional_pct = st.one_of(st.none(), st.integers(1, 40).map(pct))
    return RiskParams(
        take_profit_tiers=draw(ladders()),
        trailing_stop_pct=draw(optional_pct),
        trailing_activation_gain=draw(st.one_of(st.none(), st.integers(0, 60).map(pct))),
        stop_loss_pct=draw(optional_pct),
        breakeven_after_first_tier=draw(st.booleans()),
        dust_amount=draw(st.sampled_from([Decimal(0), Decimal("0.001")])),
    )


@dataclass
class Run:
    """What a simulated path did, for assertions after the fact."""

    params: RiskParams
    position: Position
    marks: dict[str, PositionMarks] = field(default_factory=dict)
    price: Decimal = Decimal(100)
    minute: int = 0
    fired: Counter[tuple[str, int]] = field(default_factory=Counter)
    actions: list[tuple[Position, Action]] = field(default_factory=list)
    stops: list[tuple[str, Decimal | None]] = field(default_factory=list)
    fills: list[PositionFill] = field(default_factory=list)

    def fill(self, side: FillSide, amount: Decimal, tier: int | None = None) -> None:
        self.minute += 1
        fill = PositionFill(
            f"f{self.minute}",
            side,
            amount,
            self.price,
            (amount * self.price * FEE_RATE).quantize(CENT),
            T0 + timedelta(minutes=self.minute),
            tier=tier,
        )
        self.fills.append(fill)
        self.position = apply_fill(self.position, fill, self.params.dust_for(SYMBOL))

    def restart(self) -> None:
        """What a restarted daemon has: the fill history and the marks as persisted text."""
        self.position = position_from_fills(SYMBOL, self.fills, self.params.dust_for(SYMBOL))
        self.marks = {
            symbol: PositionMarks(
                str(mark.cycle_id),
                Decimal(str(mark.high_water_mark)),
                None if mark.trailing_stop is None else Decimal(str(mark.trailing_stop)),
                None if mark.break_even is None else Decimal(str(mark.break_even)),
                frozenset(mark.tiers_skipped),
            )
            for symbol, mark in self.marks.items()
        }

    def tick(self, move: int) -> None:
        self.price = max(CENT, (self.price * (1 + pct(move))).quantize(CENT))
        before = self.position
        decision = evaluate(
            {SYMBOL: before}, self.marks, {SYMBOL: self.price}, account(), self.params, T0
        )
        self.marks = decision.new_marks
        if SYMBOL in self.marks:
            mark = self.marks[SYMBOL]
            self.stops.append((mark.cycle_id, mark.trailing_stop))
        assert sum(a.amount for a in decision.actions) <= before.size
        for action in decision.actions:
            assert action.amount > 0
            assert action.amount <= before.size
            self.actions.append((before, action))
            if action.tier is not None:
                self.fired[(action.cycle_id, action.tier)] += 1
            self.fill(FillSide.SELL, action.amount, action.tier)


def simulate(
    params: RiskParams,
    first_buy: Decimal,
    steps: list[tuple[str, int]],
    restart_at: int | None = None,
) -> Run:
    run = Run(params, Position(SYMBOL))
    run.fill(FillSide.BUY, first_buy)
    for index, (kind, value) in enumerate(steps):
        if index == restart_at:
            run.restart()
        if kind == "buy":
            run.fill(FillSide.BUY, pct(value))
        elif kind == "sell":
            amount = min(pct(value), run.position.size)
            if amount > 0:
                run.fill(FillSide.SELL, amount)
        else:
            run.tick(value)
    return run


@PROPERTY_SETTINGS
@given(risk_params(), st.integers(1, 500).map(pct), steps_strategy)
def test_never_sells_more_than_held(
    params: RiskParams, first_buy: Decimal, steps: list[tuple[str, int]]
) -> None:
    run = simulate(params, first_buy, steps)  # apply_fill raises if a sale exceeds the holding
    assert run.position.size >= 0
    for held_before, action in run.actions:
        assert action.amount <= held_before.size


@PROPERTY_SETTINGS
@given(risk_params(), st.integers(1, 500).map(pct), steps_strategy)
def test_tiers_never_fire_twice(
    params: RiskParams, first_buy: Decimal, steps: list[tuple[str, int]]
) -> None:
    run = simulate(params, first_buy, steps)
    assert all(count == 1 for count in run.fired.values()), run.fired


@PROPERTY_SETTINGS
@given(risk_params(), st.integers(1, 500).map(pct), steps_strategy)
def test_exit_is_alone_and_sells_everything(
    params: RiskParams, first_buy: Decimal, steps: list[tuple[str, int]]
) -> None:
    run = simulate(params, first_buy, steps)
    for held_before, action in run.actions:
        if action.is_exit:
            assert action.amount == held_before.size


@PROPERTY_SETTINGS
@given(risk_params(), st.integers(1, 500).map(pct), steps_strategy)
def test_trailing_stop_never_moves_down(
    params: RiskParams, first_buy: Decimal, steps: list[tuple[str, int]]
) -> None:
    run = simulate(params, first_buy, steps)
    previous: tuple[str, Decimal | None] | None = None
    for cycle_id, stop in run.stops:
        if previous is not None and previous[0] == cycle_id and previous[1] is not None:
            assert stop is not None and stop >= previous[1]
        previous = (cycle_id, stop)


@PROPERTY_SETTINGS
@given(
    st.one_of(st.none(), st.integers(1, 40).map(pct)),
    st.one_of(st.none(), st.integers(1, 40).map(pct)),
    st.integers(1, 500).map(pct),
    price_only_steps,
)
def test_default_ladder_sells_exactly_quarter_quarter_rest(
    trailing: Decimal | None,
    stop_loss: Decimal | None,
    first_buy: Decimal,
    steps: list[tuple[str, int]],
) -> None:
    params = RiskParams(trailing_stop_pct=trailing, stop_loss_pct=stop_loss)
    assert params.take_profit_tiers == DEFAULT_TAKE_PROFIT_TIERS
    run = simulate(params, first_buy, steps)
    quarter = first_buy * Decimal("0.25")
    sold_by_tier = {a.tier: a.amount for _, a in run.actions if a.tier is not None}
    assert all(amount == quarter for amount in sold_by_tier.values())
    exits = [(held, a) for held, a in run.actions if a.is_exit]
    assert len(exits) <= 1
    for held, action in exits:
        assert action.amount == held.size == first_buy - quarter * len(sold_by_tier)
        assert run.position.size == 0
    if set(sold_by_tier) == {1, 2} and exits:
        assert exits[0][1].amount == first_buy / 2
    assert all(a.kind is not ActionKind.FLATTEN for _, a in run.actions)


@PROPERTY_SETTINGS
@given(risk_params(), st.integers(1, 500).map(pct), steps_strategy, st.data())
def test_restart_from_fills_and_persisted_marks_is_exact(
    params: RiskParams, first_buy: Decimal, steps: list[tuple[str, int]], data: st.DataObject
) -> None:
    restart_at = data.draw(st.integers(0, len(steps) - 1), label="restart_at")
    uninterrupted = simulate(params, first_buy, steps)
    restarted = simulate(params, first_buy, steps, restart_at)
    assert restarted.actions == uninterrupted.actions
    assert restarted.stops == uninterrupted.stops
    assert restarted.marks == uninterrupted.marks
