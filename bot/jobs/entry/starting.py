"""Whether a symbol's next plan may start now, and with how many tranches.

`start_hold` asks the start gates in order: the post-exit cool-down (which a liquidation flush
after the exit waives), a position held without a plan, the regime, and for alts the lag
behind the reference's plan of the current regime episode. `tranche_plan` fits the tranche
count to the venue's minimum order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from bot.jobs.entry.run import EntryRun
from bot.strategy import gates
from bot.strategy.allocation import SymbolBudget, tranche_count
from bot.strategy.planner import TRANCHE_MIN_MARGIN, tranche_minimum
from bot.strategy.plans import Plan
from risk.position import FillSide

_CENT = Decimal("0.01")


async def start_hold(
    run: EntryRun, budget: SymbolBudget, last: Plan | None
) -> tuple[str | None, str | None, list[str]]:
    """(gate, why it holds, notes for the start line): the first gate holding a new plan."""
    params, symbol = run.params, budget.symbol
    notes: list[str] = []
    reason = gates.cooldown_gate(last, run.now, params)
    if reason:
        flush = run.signals.flush(symbol, run.now) if run.signals is not None else None
        waiver = gates.cooldown_waiver(last, _exited_at(run, last), flush, params)
        if waiver is None:
            if last is not None and last.closed_at is not None:
                run.look_again(last.closed_at + timedelta(days=params.cycle_cooldown_days))
            return gates.COOLDOWN, reason, notes
        notes.append(waiver)
    dust = run.dust(symbol)
    position = run.orders.position(symbol, dust)
    if position.is_open(dust):
        held = f"{position.size} {symbol.partition('/')[0]} held without a running plan"
        return "position", f"{held}: not adding to it", notes
    reason = gates.regime_start_gate(run.regime, run.now, params)
    if reason:
        return gates.REGIME, reason, notes
    pivot, window = run.regime.last_pivot if run.regime else None, params.pivot_window_days
    if pivot is not None and window is not None:
        run.look_again(pivot + timedelta(days=window))  # the easing pivot grows too old
    if not budget.core and params.reference_symbol in params.symbols:
        run.look_again()  # the reference's gain and age move with the price and the clock
        reference = run.repo.latest_plan(params.reference_symbol)
        tranches = run.repo.tranches(reference.plan_id) if reference else ()
        ref_price = await run.price(params.reference_symbol) if reference else None
        lag = gates.alt_lag(symbol, reference, tranches, ref_price, run.regime, run.now, params)
        if lag.hold:
            return gates.ALT_LAG, lag.hold, notes
        if lag.note:
            notes.append(lag.note)
    return None, None, notes


def _exited_at(run: EntryRun, last: Plan | None) -> datetime | None:
    """When the last cycle's position was exited: its last sale up to the plan's close."""
    if last is None or last.closed_at is None:
        return None
    # The fills come in time order: the last sale up to the close, from the newest backwards.
    for fill in reversed(run.orders.repo.position_fills(last.symbol)):
        if fill.side is FillSide.SELL and fill.timestamp <= last.closed_at:
            return fill.timestamp
    return None


async def tranche_plan(run: EntryRun, symbol: str, amount: Decimal) -> tuple[int, str]:
    """(tranche count, why it differs from the configured one); 0 = not even one tranche
    clears the venue's minimum order (the text says budget vs minimum)."""
    configured, quote = run.params.tranches, run.params.quote
    price = await run.price(symbol)
    market = run.market(symbol)
    minimum = tranche_minimum(market, price)
    count = tranche_count(amount, configured, minimum)
    if count == configured:
        return count, ""
    parts = [f"min cost {market.min_cost} {quote}"] if market.min_cost else []
    if market.min_amount is not None:
        parts.append(f"min amount {market.min_amount} {market.base} at {price}")
    venue = (
        f"the venue minimum per tranche, {minimum.quantize(_CENT)} {quote} "
        f"({', '.join(parts)}, x{TRANCHE_MIN_MARGIN} for price moves and fees)"
    )
    if count == 0:
        return 0, f"budget {amount.quantize(_CENT)} {quote} is below {venue}: no plan starts"
    share = (amount / configured).quantize(_CENT)
    return count, (
        f"{count} tranche{'s' if count > 1 else ''} instead of {configured}: {configured} of "
        f"{share} {quote} would be below {venue}"
    )
