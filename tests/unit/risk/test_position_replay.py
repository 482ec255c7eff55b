"""`PositionReplay` gives exactly what `position_from_fills` gives, call after call.

The backtest relies on it for identical decisions: the same `Position` field by field, with
the same Decimal exponents (the JSON output prints them), whether fills arrive in time order,
out of order, as fresh copies of the same fills, or as a fill that must be rejected.
"""

from __future__ import annotations

from dataclasses import astuple, replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from risk.position import (
    FillRejected,
    Position,
    PositionFill,
    PositionReplay,
    position_from_fills,
)
from tests.unit.risk.factories import SYMBOL, T0, D, buy, sell

DUST = Decimal("0.001")

# A step adds one fill: (side, amount in thousandths, price, minutes after T0, tier), or
# re-sends the list so far as fresh, equal-valued copies whose amounts have another exponent.
_fill_step = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.integers(1, 40),
    st.integers(50, 150),
    st.integers(0, 30),
    st.sampled_from([None, 1, 2]),
)
_step = st.one_of(_fill_step, st.just("copies"))


def _fill(index: int, step: tuple[str, int, int, int, int | None]) -> PositionFill:
    side, thousandths, price, minutes, tier = step
    amount = str(Decimal(thousandths) / 1000)
    if side == "buy":
        return buy(f"f{index}", amount, str(price), fee="0.01", minutes=minutes)
    return sell(f"f{index}", amount, str(price), fee="0.01", minutes=minutes, tier=tier)


def _exact(position: Position) -> tuple[str, ...]:
    """Every field as text, so 1.0 and 1.00 differ."""
    return tuple(str(value) for value in astuple(position))


def _replayed(replay: PositionReplay, fills: list[PositionFill]) -> Position | str:
    try:
        return replay.position(fills)
    except FillRejected:
        return "rejected"


def _rebuilt(fills: list[PositionFill]) -> Position | str:
    try:
        return position_from_fills(SYMBOL, fills, DUST)
    except FillRejected:
        return "rejected"


@settings(max_examples=200, deadline=None)
@given(st.lists(_step, min_size=1, max_size=25))
def test_replay_matches_a_full_rebuild_after_every_new_fill(steps: list[object]) -> None:
    replay = PositionReplay(SYMBOL, DUST)
    fills: list[PositionFill] = []
    for index, step in enumerate(steps):
        if step == "copies":
            fills = [replace(f, amount=f.amount.quantize(Decimal("0.00000001"))) for f in fills]
        else:
            assert isinstance(step, tuple)
            fills.append(_fill(index, step))
        got, want = _replayed(replay, fills), _rebuilt(fills)
        if isinstance(want, str) or isinstance(got, str):
            assert got == want
            assert step != "copies"  # copies of accepted fills are accepted
            fills.pop()  # drop the impossible sell and go on
            continue
        assert got == want
        assert _exact(got) == _exact(want)


def test_an_earlier_fill_arriving_late_replays_from_scratch() -> None:
    replay = PositionReplay(SYMBOL)
    first = buy("b1", "0.02", "100", minutes=10)
    assert replay.position([first]).avg_entry_price == D("100")
    earlier = sell("s0", "0.01", "120", minutes=5)
    # Sorted by time the sell comes first and sells what is not held yet: rejected, exactly as
    # a full rebuild would, not applied after the buy.
    try:
        replay.position([first, earlier])
    except FillRejected:
        pass
    else:
        raise AssertionError("a sell before any buy must be rejected")
    late_buy = buy("b0", "0.03", "90", minutes=1)
    fills = [first, late_buy]
    assert replay.position(fills) == position_from_fills(SYMBOL, fills)
    assert replay.position(fills).cycle_id == "b0"


def test_kept_position_grows_only_by_the_new_fills() -> None:
    replay = PositionReplay(SYMBOL, DUST)
    fills = [buy("b1", "0.02", "100"), buy("b2", "0.02", "80", minutes=1)]
    before = replay.position(fills)
    fills.append(sell("s1", "0.04", "110", minutes=2, tier=1))
    after = replay.position(fills)
    assert before.size == D("0.04")
    assert after == position_from_fills(SYMBOL, fills, DUST)
    assert not after.cycle_open
    assert after.fill_ids == {"b1", "b2", "s1"}
    assert after.last_fill_at == T0 + timedelta(minutes=2)


def test_fewer_fills_than_last_time_replays_from_scratch() -> None:
    replay = PositionReplay(SYMBOL)
    fills = [buy("b1", "0.02", "100"), buy("b2", "0.02", "80", minutes=1)]
    assert replay.position(fills).size == D("0.04")
    assert replay.position(fills[:1]) == position_from_fills(SYMBOL, fills[:1])
    assert replay.position([]) == Position(symbol=SYMBOL)
