"""Named scenarios for the risk engine: each pins one rule that protects the user's money."""

from __future__ import annotations

from decimal import Decimal

from risk.actions import Action, ActionKind
from risk.engine import RiskDecision, evaluate
from risk.limits import AccountState
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import Position, apply_fill, position_from_fills
from tests.unit.risk.factories import SYMBOL, T0, D, account, buy, fill_action, sell

ETH = "ETH/USDT"


def run(
    position: Position,
    price: str,
    params: RiskParams | None = None,
    marks: PositionMarks | None = None,
    acct: AccountState | None = None,
) -> RiskDecision:
    return evaluate(
        {SYMBOL: position},
        {SYMBOL: marks} if marks is not None else {},
        {SYMBOL: D(price)},
        acct or account(),
        params or RiskParams(),
        T0,
    )


def kinds(actions: list[Action]) -> list[tuple[ActionKind, int | None, Decimal]]:
    return [(a.kind, a.tier, a.amount) for a in actions]


def one_btc_at_100() -> Position:
    return position_from_fills(SYMBOL, [buy("b1", "1", "100")])


def test_tier_one_reason_reads_like_the_playbook() -> None:
    position = position_from_fills(SYMBOL, [buy("b1", "0.05", "100000")])
    decision = run(position, "120400")
    assert kinds(decision.actions) == [(ActionKind.TAKE_PROFIT, 1, D("0.0125"))]
    action = decision.actions[0]
    assert action.reason == "tier 1: +20.4% >= +20%, sell 25% of 0.05 = 0.0125 BTC"
    assert action.trigger_price == D("120000")
    assert action.price == D("120400")
    assert action.key == "BTC/USDT|b1|tp1"


def test_nothing_happens_between_stop_and_first_tier() -> None:
    decision = run(one_btc_at_100(), "110")
    assert decision.actions == []
    assert decision.new_marks[SYMBOL] == PositionMarks("b1", D(110), None)
    assert not decision.entries_blocked


def test_gap_over_two_tiers() -> None:
    decision = run(one_btc_at_100(), "160")
    assert kinds(decision.actions) == [
        (ActionKind.TAKE_PROFIT, 1, D("0.25")),
        (ActionKind.TAKE_PROFIT, 2, D("0.25")),
    ]
    assert [a.key for a in decision.actions] == ["BTC/USDT|b1|tp1", "BTC/USDT|b1|tp2"]


def test_unfilled_tier_is_re_emitted_with_the_same_key() -> None:
    first = run(one_btc_at_100(), "125")
    second = run(one_btc_at_100(), "126", marks=first.new_marks[SYMBOL])
    assert [a.key for a in first.actions] == [a.key for a in second.actions] == ["BTC/USDT|b1|tp1"]


def test_tier_fires_once_even_when_price_crosses_it_again() -> None:
    position = one_btc_at_100()
    decision = run(position, "121")
    position = fill_action(position, decision.actions[0], "s1")
    marks = decision.new_marks[SYMBOL]
    for price in ["110", "125", "119", "121", "130"]:
        decision = run(position, price, marks=marks)
        assert decision.actions == [], price
        marks = decision.new_marks[SYMBOL]


def test_added_entry_after_tier_does_not_refire() -> None:
    position = one_btc_at_100()
    decision = run(position, "121")
    position = fill_action(position, decision.actions[0], "s1", minutes=1)
    # Staggered entry after tier 1: the average moves up to (0.75*100 + 1*130)/1.75 = 117.14..
    position = apply_fill(position, buy("b2", "1", "130", minutes=2))
    assert position.tiers_taken == frozenset({1})
    decision = run(position, "145", marks=decision.new_marks[SYMBOL])
    assert decision.actions == []  # +23.8 % over the new average: tier 1 is taken, tier 2 not due
    decision = run(position, "176", marks=decision.new_marks[SYMBOL])
    # tier 2 sells 25 % of everything bought in the cycle (2), not of the first entry alone
    assert kinds(decision.actions) == [(ActionKind.TAKE_PROFIT, 2, D("0.5"))]


def test_trailing_stop_activates_after_last_tier_and_sells_the_rest() -> None:
    params = RiskParams(trailing_stop_pct=D("0.1"))
    position = one_btc_at_100()
    decision = run(position, "150", params)
    for n, action in enumerate(decision.actions):
        position = fill_action(position, action, f"s{n}")
    assert decision.new_marks[SYMBOL].trailing_stop is None  # tiers were not filled yet
    decision = run(position, "150", params, decision.new_marks[SYMBOL])
    assert decision.new_marks[SYMBOL].trailing_stop == D("135")
    decision = run(position, "200", params, decision.new_marks[SYMBOL])
    assert decision.new_marks[SYMBOL].trailing_stop == D("180")
    decision = run(position, "181", params, decision.new_marks[SYMBOL])
    assert decision.actions == []
    decision = run(position, "180", params, decision.new_marks[SYMBOL])
    assert kinds(decision.actions) == [(ActionKind.TRAILING_STOP, None, D("0.5"))]
    assert decision.actions[0].reason == (
        "trailing stop: price 180 <= stop 180 (10% below high 200), sell all 0.5 BTC"
    )
    assert decision.actions[0].key == "BTC/USDT|b1|exit"


def test_trailing_stop_with_activation_gain_starts_before_the_tiers() -> None:
    params = RiskParams(trailing_stop_pct=D("0.05"), trailing_activation_gain=D("0.1"))
    decision = run(one_btc_at_100(), "109", params)
    assert decision.new_marks[SYMBOL].trailing_stop is None
    decision = run(one_btc_at_100(), "110", params, decision.new_marks[SYMBOL])
    assert decision.new_marks[SYMBOL].trailing_stop == D("104.50")
    decision = run(one_btc_at_100(), "104.5", params, decision.new_marks[SYMBOL])
    assert kinds(decision.actions) == [(ActionKind.TRAILING_STOP, None, D("1"))]


def test_hard_stop_sells_everything_below_entry() -> None:
    decision = run(one_btc_at_100(), "85", RiskParams(stop_loss_pct=D("0.15")))
    assert kinds(decision.actions) == [(ActionKind.STOP_LOSS, None, D("1"))]
    assert decision.actions[0].reason == (
        "stop loss: price 85 <= stop 85 (entry 100 - 15%), sell all 1 BTC"
    )
    assert run(one_btc_at_100(), "85.01", RiskParams(stop_loss_pct=D("0.15"))).actions == []
    assert run(one_btc_at_100(), "1", RiskParams(stop_loss_pct=None)).actions == []


def test_breakeven_after_first_tier() -> None:
    params = RiskParams(stop_loss_pct=D("0.15"), breakeven_after_first_tier=True)
    position = position_from_fills(SYMBOL, [buy("b1", "1", "100", fee="0.1")])
    decision = run(position, "121", params)
    position = fill_action(position, decision.actions[0], "s1", fee=D("0.0303"))
    # break-even = 100 + (0.1 + 0.0303) / 0.75 = 100.1737333..
    assert run(position, "100.18", params, decision.new_marks[SYMBOL]).actions == []
    decision = run(position, "100.17", params, decision.new_marks[SYMBOL])
    assert kinds(decision.actions) == [(ActionKind.STOP_LOSS, None, D("0.75"))]
    assert decision.actions[0].trigger_price == position.break_even_price
    assert decision.actions[0].reason.startswith(
        "break-even stop: price 100.17 <= stop 100.173733333 (break-even: entry 100 + fees "
        "0.173733333333/unit), sell all 0.75 BTC"
    )
    without = RiskParams(stop_loss_pct=D("0.15"), breakeven_after_first_tier=False)
    assert run(position, "100.17", without).actions == []


def test_breakeven_applies_even_when_percentage_stop_is_off() -> None:
    params = RiskParams(stop_loss_pct=None, breakeven_after_first_tier=True)
    position = apply_fill(one_btc_at_100(), sell("s1", "0.25", "121", tier=1))
    assert kinds(run(position, "99", params).actions) == [(ActionKind.STOP_LOSS, None, D("0.75"))]


def test_stop_wins_over_tier_on_same_tick() -> None:
    # Trailing active from +10 %, high 160 -> stop 152; tier 2 (+50 %) is due at 151 but the
    # exit that sells everything wins: no 25 % sale followed by a 100 % sale.
    params = RiskParams(trailing_stop_pct=D("0.05"), trailing_activation_gain=D("0.1"))
    position = apply_fill(one_btc_at_100(), sell("s1", "0.25", "121", tier=1))
    marks = PositionMarks("b1", D(160), D(152))
    decision = run(position, "151", params, marks)
    assert kinds(decision.actions) == [(ActionKind.TRAILING_STOP, None, D("0.75"))]
    assert decision.actions[0].reason.endswith("(exit wins over due tier 2)")


def test_hard_stop_names_the_exit_when_it_is_the_higher_stop() -> None:
    params = RiskParams(trailing_stop_pct=D("0.5"), stop_loss_pct=D("0.1"))
    position = position_from_fills(
        SYMBOL,
        [
            buy("b1", "1", "100"),
            sell("s1", "0.25", "120", tier=1),
            sell("s2", "0.25", "150", tier=2),
        ],
    )
    marks = PositionMarks("b1", D(150), D(75))
    decision = run(position, "70", params, marks)
    assert kinds(decision.actions) == [(ActionKind.STOP_LOSS, None, D("0.5"))]


def test_trailing_stop_never_moves_down_when_price_falls() -> None:
    params = RiskParams(trailing_stop_pct=D("0.1"), trailing_activation_gain=D("0"))
    marks = None
    stops = []
    for price in ["100", "130", "125", "140", "129"]:
        decision = run(one_btc_at_100(), price, params, marks)
        marks = decision.new_marks[SYMBOL]
        stops.append(marks.trailing_stop)
    assert stops == [D(90), D(117), D(117), D(126), D(126)]


def test_trailing_stop_keeps_its_level_when_the_callback_is_widened() -> None:
    # A config change from 5 % to 10 % would put the stop at 117; it stays at 123.5.
    marks = PositionMarks("b1", D(130), D("123.5"))
    params = RiskParams(trailing_stop_pct=D("0.1"), trailing_activation_gain=D("0"))
    decision = run(one_btc_at_100(), "125", params, marks)
    assert decision.new_marks[SYMBOL].trailing_stop == D("123.5")
    assert kinds(decision.actions) == [(ActionKind.TAKE_PROFIT, 1, D("0.25"))]
    decision = run(one_btc_at_100(), "123", params, decision.new_marks[SYMBOL])
    assert kinds(decision.actions) == [(ActionKind.TRAILING_STOP, None, D("1"))]
    assert decision.actions[0].reason == (
        "trailing stop: price 123 <= stop 123.5 (ratcheted; 10% below high 130 would be 117), "
        "sell all 1 BTC (exit wins over due tier 1)"
    )


def test_marks_of_a_previous_cycle_are_discarded() -> None:
    stale = PositionMarks("old-cycle", D(500), D(450))
    decision = run(one_btc_at_100(), "110", marks=stale)
    assert decision.actions == []
    assert decision.new_marks[SYMBOL] == PositionMarks("b1", D(110), None)


def test_restart_without_marks_falls_back_to_highest_fill() -> None:
    position = position_from_fills(SYMBOL, [buy("b1", "1", "100"), sell("s1", "0.25", "130", 1)])
    decision = run(position, "110")
    assert decision.new_marks[SYMBOL].high_water_mark == D(130)


def test_daily_loss_blocks_entries() -> None:
    params = RiskParams(daily_loss_limit=D("0.05"), flatten_on_kill=False)
    decision = run(one_btc_at_100(), "121", params, acct=account("9500", day_start="10000"))
    assert decision.entries_blocked
    assert decision.kill_switch
    assert decision.block_reasons == [
        "kill switch: daily loss 5% from day-start equity 10000 >= limit 5%"
    ]
    # without flatten_on_kill, exits (here tier 1) keep running
    assert kinds(decision.actions) == [(ActionKind.TAKE_PROFIT, 1, D("0.25"))]
    ok = run(one_btc_at_100(), "121", params, acct=account("9501", day_start="10000"))
    assert not ok.entries_blocked and not ok.kill_switch


def test_drawdown_kill_switch_flattens() -> None:
    params = RiskParams(max_drawdown=D("0.2"), flatten_on_kill=True, daily_loss_limit=None)
    eth = position_from_fills(ETH, [buy("e1", "2", "3000")])
    decision = evaluate(
        {SYMBOL: one_btc_at_100(), ETH: eth},
        {},
        {SYMBOL: D("121"), ETH: D("2500")},
        account("7900", peak="10000"),
        params,
        T0,
    )
    assert decision.kill_switch and decision.entries_blocked
    assert kinds(decision.actions) == [
        (ActionKind.FLATTEN, None, D("1")),
        (ActionKind.FLATTEN, None, D("2")),
    ]
    assert decision.actions[1].reason == (
        "kill switch: drawdown 21% from equity peak 10000 >= max 20%; flatten all 2 ETH"
    )
    assert set(decision.new_marks) == {SYMBOL, ETH}


def test_risk_off_blocks_entries_but_exits_run() -> None:
    params = RiskParams(risk_off=True, stop_loss_pct=D("0.1"))
    decision = run(one_btc_at_100(), "89", params)
    assert decision.entries_blocked
    assert decision.block_reasons == ["risk-off flag set: new entries blocked, exits keep running"]
    assert not decision.kill_switch
    assert kinds(decision.actions) == [(ActionKind.STOP_LOSS, None, D("1"))]
    assert kinds(run(one_btc_at_100(), "121", params).actions) == [
        (ActionKind.TAKE_PROFIT, 1, D("0.25"))
    ]


def test_total_exposure_at_cap_blocks_entries() -> None:
    params = RiskParams(max_total_fraction=D("0.5"))
    position = position_from_fills(SYMBOL, [buy("b1", "50", "100")])
    decision = run(position, "100", params, acct=account("10000"))
    assert decision.entries_blocked
    assert decision.block_reasons == ["total exposure 5000 >= max 50% of equity 10000"]


def test_missing_price_keeps_marks_and_is_reported() -> None:
    marks = PositionMarks("b1", D(130), D(117))
    decision = evaluate(
        {SYMBOL: one_btc_at_100()}, {SYMBOL: marks}, {}, account(), RiskParams(), T0
    )
    assert decision.actions == []
    assert decision.missing_prices == [SYMBOL]
    assert decision.new_marks == {SYMBOL: marks}


def test_flat_and_dust_positions_are_not_evaluated() -> None:
    params = RiskParams(dust_by_symbol={SYMBOL: D("0.001")})
    dust = position_from_fills(SYMBOL, [buy("b1", "1", "100"), sell("s1", "0.9995", "100")])
    decision = run(dust, "1", params, marks=PositionMarks("b1", D(100), None))
    assert decision.actions == []
    assert decision.new_marks == {}


def test_open_positions_full_is_reported_without_blocking_adds() -> None:
    params = RiskParams(max_open_positions=1)
    decision = run(one_btc_at_100(), "100", params)
    assert decision.open_positions_full
    assert not decision.entries_blocked
