"""The entry job: start plans when the gates allow, place due tranches, follow them, close
cycles. `entry_job(ctx, now)` is scheduled hourly; every decision goes to the journal.

It works with `ctx.services`: the order manager and exchange, the signals (without them no
plan starts and tranches wait), the daily price history for the anti-chase gate, the plan
repository and the strategy parameters the composition root resolved once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from bot.jobs.entry.following import cancel_live, follow_order
from bot.jobs.entry.placing import place_due
from bot.jobs.entry.run import EntryRun, log
from bot.jobs.entry.starting import start_hold, tranche_plan
from bot.jobs.entry.tier_stop import stop_after_tier
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
from bot.strategy.allocation import Allocation, SymbolBudget, allocate
from bot.strategy.cycles import cycle_budget, cycle_closed, cycle_pnl, plan_cycle_id
from bot.strategy.params import StrategyParams
from bot.strategy.planner import new_plan, pull_forward
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus, plan_filled
from exchanges.errors import ExchangeError
from risk.position import Position

_CENT = Decimal("0.01")
# The split of the budget is a pure function of the (frozen) strategy parameters, which the
# composition resolves once: reused while the very same object is asked about.
_allocations: list[tuple[StrategyParams, Allocation]] = []


def _allocation(params: StrategyParams) -> Allocation:
    if _allocations and _allocations[0][0] is params:
        return _allocations[0][1]
    allocation = allocate(params)
    _allocations[:] = [(params, allocation)]
    return allocation


async def entry_job(ctx: JobContext, now: datetime) -> None:
    """One pass of the entry planner at `now` (injected: live, paper and backtest alike)."""
    await entry_pass(ctx, now)


async def entry_pass(ctx: JobContext, now: datetime) -> datetime | None:
    """`entry_job`, returning when its decisions may next differ if nothing else changes
    (`EntryRun.wake`): the backtest skips the quiet runs before it."""
    run = EntryRun(
        ctx=ctx,
        params=ctx.services.strategy_params,
        now=now,
        repo=ctx.services.plans,
        orders=ctx.services.orders,
        exchange=ctx.services.exchange,
        signals=ctx.services.signals,
        history=ctx.services.price_history,
    )
    running = run.repo.plans(statuses=(PlanStatus.ACTIVE, PlanStatus.COMPLETE))
    if running:
        # Order states and fills as the venue has them: limit tranches fill between runs.
        report = await run.orders.reconcile(now, sorted({p.symbol for p in running}))
        for error in report.errors:
            log.warning("entry_reconcile_failed", error=error)
    run.markets = await run.exchange.load_markets()
    if run.signals is not None:
        run.regime = run.signals.regime(now)
        run.hours_to_fomc = run.signals.hours_to_next_fomc(now)
    allocation = _allocation(run.params)
    symbols = [s.symbol for s in allocation.symbols]
    symbols += sorted({p.symbol for p in running} - set(symbols))
    for symbol in symbols:
        try:
            await _symbol(run, symbol, allocation.of(symbol))
        except ExchangeError as exc:
            run.look_again()  # retried every run
            _symbol_failed(run, symbol, str(exc))
        else:
            state = RuntimeState(ctx.store)
            if state.entry_error(symbol):
                state.set_entry_error(symbol, "", now)
                run.note("entry_recovered", f"{symbol}: entries work again", symbol=symbol)
    return run.wake


def _symbol_failed(run: EntryRun, symbol: str, error: str) -> None:
    """A venue error for one symbol: the others go on; journaled when the error changes."""
    state = RuntimeState(run.ctx.store)
    if state.entry_error(symbol) == error:
        log.warning("entry_error", symbol=symbol, error=error)
        return
    state.set_entry_error(symbol, error, run.now)
    run.note(
        "entry_error",
        f"{symbol}: {error}; retried every run",
        symbol=symbol,
        level="warning",
    )


async def _symbol(run: EntryRun, symbol: str, budget: SymbolBudget | None) -> None:
    plan = run.repo.current_plan(symbol)
    if plan is not None:
        plan = await follow_plan(run, plan)
        if plan.status is not PlanStatus.CLOSED:
            return
    if budget is not None:  # a symbol dropped from the allocation gets no new plan
        await _maybe_start(run, budget)


# --- a running plan --------------------------------------------------------------------------


async def follow_plan(run: EntryRun, plan: Plan) -> Plan:
    tranches = run.repo.tranches(plan.plan_id)
    for tranche in tranches:
        if tranche.status is TrancheStatus.ORDERED:
            tranches = await follow_order(run, plan, tranches, tranche)
    position = run.orders.position(plan.symbol, run.dust(plan.symbol))
    plan = _track_cycle(run, plan, tranches, position)
    if cycle_closed(plan, position, run.dust(plan.symbol)):
        return await _close(run, plan, tranches, position)
    if plan.status is PlanStatus.ACTIVE:
        tranches = await stop_after_tier(run, plan, tranches, position)
        plan, tranches = _apply_flush(run, plan, tranches)
        tranches = await place_due(run, plan, tranches)
        plan = _complete_if_done(run, plan, tranches)
    return plan


def _track_cycle(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], position: Position
) -> Plan:
    if plan.position_cycle_id is not None:
        return plan
    earlier = [p for p in run.repo.plans(plan.symbol) if p.plan_id != plan.plan_id]
    cycle_id = plan_cycle_id(plan, position, earlier, plan_filled(tranches)[0])
    if cycle_id is None:
        return plan
    plan = replace(plan, position_cycle_id=cycle_id)
    run.repo.save(plan)
    return plan


def _apply_flush(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...]
) -> tuple[Plan, tuple[Tranche, ...]]:
    """A flush newer than the plan and than the last one applied pulls tranches forward."""
    if run.signals is None or run.params.flush_pull_forward <= 0:
        return plan, tranches
    flush = run.signals.flush(plan.symbol, run.now)
    if flush is None or flush.at <= plan.created_at:
        return plan, tranches
    if plan.last_flush_at is not None and flush.at <= plan.last_flush_at:
        return plan, tranches
    tranches, moved = pull_forward(tranches, run.params.flush_pull_forward, run.now)
    plan = replace(plan, last_flush_at=flush.at)
    run.repo.save(plan, tranches)
    what = (
        f"tranche {', '.join(map(str, moved))} pulled forward to now"
        if moved
        else "no pending tranche left to pull forward"
    )
    run.note(
        "flush_pull_forward",
        f"{plan.symbol} liquidation flush at {flush.at:%Y-%m-%d %H:%M}: {flush.reason}; {what}",
        symbol=plan.symbol,
        plan_id=plan.plan_id,
        cycle=plan.cycle,
        tranches=moved,
        long_notional=flush.long_notional,
    )
    return plan, tranches


def _complete_if_done(run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...]) -> Plan:
    if not all(t.done for t in tranches):
        return plan
    bought, spent = plan_filled(tranches)
    if bought <= 0:
        closed = replace(
            plan,
            status=PlanStatus.CLOSED,
            completed_at=run.now,
            closed_at=run.now,
            close_reason="no tranche bought anything",
            realized_pnl=Decimal(0),
        )
        run.repo.save(closed)
        run.note(
            "plan_closed",
            f"{plan.symbol} cycle {plan.cycle} ended without buying: every tranche was "
            "skipped or failed",
            symbol=plan.symbol,
            plan_id=plan.plan_id,
            cycle=plan.cycle,
        )
        return closed
    complete = replace(plan, status=PlanStatus.COMPLETE, completed_at=run.now)
    run.repo.save(complete)
    run.note(
        "plan_complete",
        f"{plan.symbol} cycle {plan.cycle}: all {len(tranches)} tranches done, bought "
        f"{bought} for {spent.quantize(_CENT)} {run.params.quote} (avg "
        f"{(spent / bought).quantize(_CENT)}, budget {plan.budget}); exits are the risk "
        "job's",
        symbol=plan.symbol,
        plan_id=plan.plan_id,
        cycle=plan.cycle,
        bought=str(bought),
        spent=str(spent),
    )
    return complete


async def _close(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], position: Position
) -> Plan:
    """The plan's position was exited: end the cycle, cancel what has not gone out."""
    last_exit = next(
        (
            f.reason
            for f in reversed(run.orders.repo.position_fills(plan.symbol))
            if f.side.value == "sell"
        ),
        None,
    )
    early = plan.status is PlanStatus.ACTIVE
    why = f"position exited ({last_exit or 'sold'})"
    ended = []
    for tranche in tranches:
        if tranche.status in (TrancheStatus.PENDING, TrancheStatus.ORDERED):
            tranche = await cancel_live(run, plan, tranche, f"plan ended: {why}")
        ended.append(tranche)
    pnl = cycle_pnl(plan, position)
    closed = replace(
        plan,
        status=PlanStatus.CLOSED,
        completed_at=plan.completed_at or run.now,
        closed_at=run.now,
        close_reason=why + ("; before the plan finished" if early else ""),
        realized_pnl=pnl,
    )
    run.repo.save(closed, ended)
    bought, spent = plan_filled(ended)
    pnl_text = "unknown (a newer cycle has started)" if pnl is None else f"{pnl.quantize(_CENT)}"
    waiver = " (a liquidation flush after the exit waives it)"
    run.note(
        "plan_closed",
        f"{plan.symbol} cycle {plan.cycle} closed: {closed.close_reason}; bought {bought} for "
        f"{spent.quantize(_CENT)} {run.params.quote}, realised net PnL {pnl_text} "
        f"{run.params.quote}; next plan after {run.params.cycle_cooldown_days:g} days of "
        f"cool-down{waiver if run.params.flush_waives_cooldown else ''}",
        symbol=plan.symbol,
        plan_id=plan.plan_id,
        cycle=plan.cycle,
        realized_pnl=None if pnl is None else str(pnl),
        canceled=[t.number for t in ended if t.status is TrancheStatus.CANCELED],
    )
    return closed


# --- starting a plan -------------------------------------------------------------------------


async def _maybe_start(run: EntryRun, budget: SymbolBudget) -> None:
    symbol, state = budget.symbol, RuntimeState(run.ctx.store)
    history = run.repo.plans(symbol)
    last = history[-1] if history else None
    gate, reason, notes = await start_hold(run, budget, last)
    amount = cycle_budget(budget.budget, history, run.params)
    if gate is None and amount <= 0:
        gate, reason = "budget", f"budget for {symbol} is {amount} after earlier cycles' losses"
    count, sizing = 0, ""
    if gate is None:
        run.look_again()  # the venue minimum per tranche moves with the price
        count, sizing = await tranche_plan(run, symbol, amount)
        if count == 0:
            gate, reason = "minimum", sizing
    if gate is not None:
        if state.entry_wait(symbol) != gate:
            state.set_entry_wait(symbol, gate, run.now)
            run.note("plan_waiting", f"{symbol}: {reason}", symbol=symbol, gate=gate)
        else:
            log.debug("plan_still_waiting", symbol=symbol, gate=gate, reason=reason)
        return
    if state.entry_wait(symbol):
        state.set_entry_wait(symbol, "", run.now)
    cycle = last.cycle + 1 if last else 1
    regime = run.regime
    why = (
        f"regime {regime.regime} since {regime.since:%Y-%m-%d} ({regime.source})"
        if regime
        else "regime unknown"
    )
    plan, tranches = new_plan(
        symbol,
        budget.kind,
        cycle,
        amount,
        await run.price(symbol),
        "; ".join([why, *notes]),
        run.now,
        run.params,
        count,
    )
    run.repo.insert_plan(plan, tranches)
    scaled = " after the alt cap" if budget.scaled else ""
    schedule = ", ".join(f"{t.number}: {t.scheduled_at:%Y-%m-%d %H:%M}" for t in tranches)
    run.note(
        "plan_started",
        f"{symbol} cycle {cycle} ({budget.kind}): {len(tranches)} tranches for {amount} "
        f"{run.params.quote} (weight {budget.effective_weight * 100:.4g}%{scaled}); "
        + "; ".join([why, *notes, *([sizing] if sizing else [])])
        + f"; schedule {schedule}",
        symbol=symbol,
        plan_id=plan.plan_id,
        cycle=cycle,
        budget=str(amount),
        start_price=str(plan.start_price),
        tranches=len(tranches),
    )
    await follow_plan(run, plan)
