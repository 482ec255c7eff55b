"""The one risk decision function: positions + marks + prices + account -> actions.

Rules, in the order they are applied to each open position at one price tick:

1. The high-water mark rises to the price; the trailing stop arms (after
   `trailing_arm_after_tiers` tiers are done, or at `trailing_activation_gain`) and ratchets
   up from the high-water mark. Once a tier is done the break-even level is fixed.
2. A holding the venue cannot sell at this price (below its minimum sale) gets no order:
   it is listed in `unsellable`, and a tier due meanwhile is marked skipped (done without a
   sale) so what follows it still arms.
3. Kill switch with `flatten_on_kill`: FLATTEN everything held; nothing else for that symbol.
4. If the price is at or below the trailing stop or the hard stop, ONE exit sells everything
   held (the higher stop names it); due tiers are not sold as well.
5. Otherwise every due tier not yet done is sold, one TAKE_PROFIT each, sized by the rule in
   `risk.take_profit.plan_take_profits` (never below the venue minimum, never more than held).

Actions are intents: until the sell fill reaches the position, the next tick emits the same
action again with the same `Action.key`. The caller persists `new_marks` after each call and
passes them back next time; given the same inputs, the output is the same after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from risk._fmt import base_asset, fmt_gain, fmt_num, fmt_pct, fmt_signed_pct
from risk.actions import Action, ActionKind
from risk.limits import AccountState, global_block_reasons, kill_switch_reasons
from risk.marks import PositionMarks, tiers_done
from risk.params import RiskParams
from risk.position import Position
from risk.stops import StopLevel, break_even_level, describe_stop, hard_stop_level, hard_stop_price
from risk.take_profit import TierSale, plan_take_profits, tier_due
from risk.trailing import ratchet, trailing_should_activate, trailing_stop_level

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Result of one evaluation.

    actions: sells to place, grouped by symbol in the order of `positions`.
    new_marks: marks to persist for every open position (flat positions have none).
    entries_blocked: no buy may go out (block_reasons say why). Per-buy limits (asset cap,
    max open positions, cash) are checked by `risk.limits.allowed_entry`, which every buy
    must pass through. kill_switch: daily loss or drawdown limit tripped.
    open_positions_full: max_open_positions reached; only existing positions may be added to.
    missing_prices: open positions without a price this tick (no exit checked, marks kept).
    unsellable: symbol -> why no order can be sent for it (holding below the venue's minimum
    sale at this price); such a position counts as flat for the kill switch's re-arm.
    skipped_tiers: (symbol, tier, why) for each tier marked done without a sale this tick.
    """

    at: datetime
    actions: list[Action]
    new_marks: dict[str, PositionMarks]
    entries_blocked: bool
    block_reasons: list[str]
    kill_switch: bool
    open_positions_full: bool
    missing_prices: list[str]
    unsellable: dict[str, str] = field(default_factory=dict)
    skipped_tiers: list[tuple[str, int, str]] = field(default_factory=list)


def evaluate(
    positions: Mapping[str, Position],
    marks: Mapping[str, PositionMarks],
    prices: Mapping[str, Decimal],
    account: AccountState,
    params: RiskParams,
    now: datetime,
) -> RiskDecision:
    """Evaluate every position at `prices` (quote per base) and the account against limits."""
    kill = kill_switch_reasons(account, params)
    flatten_reason = "; ".join(kill) if kill and params.flatten_on_kill else None
    actions: list[Action] = []
    new_marks: dict[str, PositionMarks] = {}
    missing: list[str] = []
    unsellable: dict[str, str] = {}
    skipped: list[tuple[str, int, str]] = []
    total_exposure = _ZERO
    open_count = 0
    for symbol, position in positions.items():
        if not position.is_open(params.dust_for(symbol)):
            continue
        open_count += 1
        previous = marks.get(symbol)
        price = prices.get(symbol)
        if price is None:
            missing.append(symbol)
            total_exposure += position.cost_basis
            if previous is not None and previous.cycle_id == position.cycle_id:
                new_marks[symbol] = previous
            continue
        total_exposure += position.size * price
        sells, new_marks[symbol], why_unsellable, skips = _position_outcome(
            position, previous, price, params, flatten_reason
        )
        if sells:
            actions.extend(sells)
        if why_unsellable is not None:
            unsellable[symbol] = why_unsellable
        if skips:
            skipped.extend((symbol, tier, why) for tier, why in skips)
    block_reasons = global_block_reasons(account, params, total_exposure, kill)
    return RiskDecision(
        at=now,
        actions=actions,
        new_marks=new_marks,
        entries_blocked=bool(block_reasons),
        block_reasons=block_reasons,
        kill_switch=bool(kill),
        open_positions_full=open_count >= params.max_open_positions,
        missing_prices=missing,
        unsellable=unsellable,
        skipped_tiers=skipped,
    )


@dataclass(frozen=True, slots=True)
class PositionResult:
    """One position's evaluation: sells to place, marks to persist, what could not be sold."""

    actions: list[Action]
    marks: PositionMarks
    unsellable: str | None = None
    skipped: tuple[tuple[int, str], ...] = ()


# A `PositionResult`'s fields in order, as `evaluate` takes them apart: building the frozen
# dataclass for every position on every tick cost a twentieth of the engine's time.
_Outcome = tuple[list[Action], PositionMarks, str | None, tuple[tuple[int, str], ...]]


def evaluate_position(
    position: Position,
    marks: PositionMarks | None,
    price: Decimal,
    params: RiskParams,
    flatten_reason: str | None = None,
) -> PositionResult:
    """Exit rules for one open position at `price`.

    The caller checks `position.is_open(params.dust_for(symbol))` first, as `evaluate` does.

    `marks` of another cycle are ignored. `flatten_reason` (set when the kill switch flattens)
    turns the result into a single FLATTEN of everything held.
    """
    return PositionResult(*_position_outcome(position, marks, price, params, flatten_reason))


def _position_outcome(
    position: Position,
    marks: PositionMarks | None,
    price: Decimal,
    params: RiskParams,
    flatten_reason: str | None,
) -> _Outcome:
    cycle_id = position.cycle_id or ""
    if marks is None or marks.cycle_id != cycle_id:
        marks = PositionMarks(cycle_id, max(position.peak_fill_price, price))
    elif price > marks.high_water_mark:
        # Built directly, not with dataclasses.replace: this runs for every position every
        # tick, and replace() alone was a third of the engine's time.
        marks = PositionMarks(
            cycle_id, price, marks.trailing_stop, marks.break_even, marks.tiers_skipped
        )
    minimum = params.min_sale(position.symbol, price)
    if position.size < minimum:
        return _unsellable(position, marks, price, params, minimum)
    # Arming changes neither the cycle nor the skipped tiers: `done` holds for what follows.
    done = tiers_done(position, marks)
    marks = _armed(position, marks, params, done)

    if flatten_reason is not None:
        return [_flatten(position, price, flatten_reason)], marks, None, ()
    exit_action = _stop_exit(position, marks, price, params, done)
    if exit_action is not None:
        return [exit_action], marks, None, ()
    sales = _due_tiers(position, marks, price, params, minimum, done)
    if not sales:
        return [], marks, None, ()
    return [_take_profit(position, price, sale) for sale in sales], marks, None, ()


def _armed(
    position: Position, marks: PositionMarks, params: RiskParams, done: frozenset[int]
) -> PositionMarks:
    """Marks with the trailing stop armed/ratcheted and the break-even level fixed;
    `done` = `tiers_done(position, marks)`."""
    trail = marks.trailing_stop
    callback = params.trailing_stop_pct
    if callback is not None and (
        trail is not None
        or trailing_should_activate(
            len(params.take_profit_tiers),
            done,
            marks.high_water_mark,
            position.avg_entry_price,
            params.trailing_activation_gain,
            params.trailing_arm_after_tiers,
        )
    ):
        trail = ratchet(trail, trailing_stop_level(callback, marks.high_water_mark))
    break_even = marks.break_even
    if break_even is None:
        break_even = break_even_level(position, marks, params)
    if trail is marks.trailing_stop and break_even is marks.break_even:
        return marks
    return PositionMarks(
        marks.cycle_id, marks.high_water_mark, trail, break_even, marks.tiers_skipped
    )


def _exit_floor(
    position: Position, marks: PositionMarks, params: RiskParams, price: Decimal
) -> Decimal:
    """The price what a tier leaves behind would normally be sold at: the hard or break-even
    stop in force once a tier is done, else the trailing stop's distance below `price`."""
    hard = hard_stop_level(
        position,
        params.stop_loss_pct,
        (marks.break_even or position.break_even_price)
        if params.breakeven_after_first_tier
        else None,
    )
    if hard is not None:
        return min(hard.price, price)
    if params.trailing_stop_pct is not None:
        return trailing_stop_level(params.trailing_stop_pct, price)
    return price


def _due_tiers(
    position: Position,
    marks: PositionMarks,
    price: Decimal,
    params: RiskParams,
    minimum: Decimal,
    done: frozenset[int],
) -> list[TierSale]:
    """`plan_take_profits` for this position; `done` = `tiers_done(position, marks)`."""
    # Most ticks have no tier due; the exit floor and its minimum sale are only needed
    # to size a sale, so they are left out until one is.
    if not tier_due(params.take_profit_tiers, done, position.avg_entry_price, price):
        return []
    keep = _ZERO
    if minimum > 0:
        keep = params.min_sale(position.symbol, _exit_floor(position, marks, params, price))
    return plan_take_profits(
        params.take_profit_tiers,
        done,
        position.avg_entry_price,
        position.size,
        position.cycle_bought,
        price,
        params.dust_for(position.symbol),
        minimum,
        keep,
    )


def _unsellable(
    position: Position,
    marks: PositionMarks,
    price: Decimal,
    params: RiskParams,
    minimum: Decimal,
) -> _Outcome:
    """Nothing held can be sold at `price`: no order; due tiers are skipped, and armed."""
    base = base_asset(position.symbol)
    why = (
        f"{fmt_num(position.size)} {base} held is below the venue's minimum sale of "
        f"{fmt_num(minimum)} {base} at {fmt_num(price)}: no order can be sent"
    )
    due = _due_tiers(position, marks, price, params, minimum, tiers_done(position, marks))
    skipped = tuple((sale.tier, f"tier {sale.tier} skipped: {why}") for sale in due)
    if skipped:
        done = marks.tiers_skipped | {tier for tier, _ in skipped}
        marks = replace(marks, tiers_skipped=frozenset(done))
    return [], _armed(position, marks, params, tiers_done(position, marks)), why, skipped


def _stop_exit(
    position: Position,
    marks: PositionMarks,
    price: Decimal,
    params: RiskParams,
    done: frozenset[int],
) -> Action | None:
    break_even = marks.break_even if params.breakeven_after_first_tier else None
    hard = hard_stop_price(position, params.stop_loss_pct, break_even)
    trail, high = marks.trailing_stop, marks.high_water_mark
    if (
        hard is not None
        and price <= hard[0]
        and (trail is None or price > trail or hard[0] >= trail)
    ):
        stop = StopLevel(*hard)
        kind, level = ActionKind.STOP_LOSS, stop.price
        why = describe_stop(position, stop, params.stop_loss_pct)
        label = "break-even stop" if stop.break_even else "stop loss"
    elif trail is not None and price <= trail:
        kind, level = ActionKind.TRAILING_STOP, trail
        callback = params.trailing_stop_pct or _ZERO
        why = f"{fmt_pct(callback)} below high {fmt_num(high)}"
        if trail != trailing_stop_level(callback, high):
            why = f"ratcheted; {why} would be {fmt_num(trailing_stop_level(callback, high))}"
        label = "trailing stop"
    else:
        return None
    base = base_asset(position.symbol)
    overrides = _overridden_tiers(position, marks, price, params, done)
    reason = (
        f"{label}: price {fmt_num(price)} <= stop {fmt_num(level)} ({why}), "
        f"sell all {fmt_num(position.size)} {base}{overrides}"
    )
    return Action(
        kind, position.symbol, position.size, level, price, None, _cycle(position), reason
    )


def _overridden_tiers(
    position: Position,
    marks: PositionMarks,
    price: Decimal,
    params: RiskParams,
    done: frozenset[int],
) -> str:
    """Note for the journal when an exit pre-empts tiers due at the same tick."""
    due = _due_tiers(position, marks, price, params, _ZERO, done)
    if not due:
        return ""
    tiers = ", ".join(str(sale.tier) for sale in due)
    return f" (exit wins over due tier {tiers})"


def _take_profit(position: Position, price: Decimal, sale: TierSale) -> Action:
    base = base_asset(position.symbol)
    reason = (
        f"tier {sale.tier}: {fmt_gain(position.gain(price))} >= "
        f"{fmt_signed_pct(sale.gain_threshold)}, sell {fmt_pct(sale.sell_fraction)} of "
        f"{fmt_num(position.cycle_bought)} = {fmt_num(sale.target_amount)} {base}"
    )
    if sale.swept_dust:
        reason += (
            f", plus the {fmt_num(sale.amount - sale.target_amount)} {base} that would be "
            f"left as dust = {fmt_num(sale.amount)} {base}"
        )
    elif sale.raised:
        reason += f", raised to the venue's minimum sale {fmt_num(sale.amount)} {base}"
    elif sale.amount < sale.target_amount:
        reason += f", clipped to the {fmt_num(sale.amount)} {base} still held"
    return Action(
        ActionKind.TAKE_PROFIT,
        position.symbol,
        sale.amount,
        sale.trigger_price,
        price,
        sale.tier,
        _cycle(position),
        reason,
    )


def _flatten(position: Position, price: Decimal, reason: str) -> Action:
    text = (
        f"kill switch: {reason}; flatten all {fmt_num(position.size)} {base_asset(position.symbol)}"
    )
    return Action(
        ActionKind.FLATTEN,
        position.symbol,
        position.size,
        price,
        price,
        None,
        _cycle(position),
        text,
    )


def _cycle(position: Position) -> str:
    return position.cycle_id or ""
