"""The risk job: value the book, run the pure risk engine, hand its exits to the order manager.

Also keeps what the risk rules need between runs (equity watermarks, the kill switch's trip
time) and what readers show (which limits block new entries), through `RuntimeState`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from bot.config.risk_params import risk_params
from bot.execution.book import Book
from bot.jobs import protective_stops
from bot.jobs.book import value_book
from bot.jobs.panic import panic
from bot.orders.intents import IntentStatus, OrderIntent
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
from exchanges.base import OrderType, Side
from risk.actions import Action
from risk.engine import evaluate
from risk.limits import (
    EquityMarks,
    global_block_reasons,
    kill_switch_reasons,
    rearm_after_kill,
    roll_equity_marks,
)
from risk.params import RiskParams

log = structlog.get_logger("bot.jobs")


async def risk_check(ctx: JobContext, now: datetime) -> None:
    """Value the book, run the pure risk engine, hand its exits to the order manager."""
    state = RuntimeState(ctx.store)
    if state.panic_requested():
        await panic(ctx, now)  # asked for by `qtbot panic` while this daemon held the lock
        return
    orders = ctx.services.orders
    book = await value_book(ctx, now)
    if book is None:
        _record_block_state(ctx, [], now)
        return
    equity_marks = roll_equity_marks(state.equity_marks(), book.equity, now)
    state.set_equity_marks(equity_marks, now)
    ctx.store.record_equity(now, book.equity, book.cash)
    params = risk_params(
        ctx.settings.risk,
        risk_off=ctx.store.risk_off(),
        dust_by_symbol=book.dust,
        markets={s: book.markets[s] for s in book.positions if s in book.markets},
    )
    decision = evaluate(
        book.positions,
        orders.repo.marks(),
        book.prices,
        equity_marks.account(book.equity, book.cash),
        params,
        now,
    )
    orders.repo.save_marks(decision.new_marks, now)
    _journal_unsellable(ctx, decision.unsellable, decision.skipped_tiers, now)
    reasons = decision.block_reasons
    rearmed = _rearm_kill_switch(
        ctx, decision.kill_switch, equity_marks, book, set(decision.unsellable), now
    )
    if rearmed is not None:
        account = rearmed.account(book.equity, book.cash)
        reasons = global_block_reasons(
            account, params, Decimal(0), kill_switch_reasons(account, params)
        )
    _record_block_state(ctx, reasons, now)
    for action in decision.actions:
        await _execute(ctx, action, book, params, now)
    acted = {a.symbol for a in decision.actions}
    for symbol in acted:
        await orders.sync_fills(symbol, now)
    # Positions that just traded are looked at again next tick, with their fills recorded.
    await protective_stops.sync_stops(ctx, book.positions, book.markets, params, now, acted)


async def _execute(
    ctx: JobContext, action: Action, book: Book, params: RiskParams, now: datetime
) -> None:
    orders = ctx.services.orders
    market = book.markets[action.symbol]
    amount = market.round_amount(action.amount)
    if amount <= 0:
        log.warning("exit_below_step", symbol=action.symbol, amount=str(action.amount))
        return
    if not orders.repo.by_cause(action.key):
        log.info(
            "exit_decision",
            symbol=action.symbol,
            kind=action.kind.value,
            tier=action.tier,
            amount=str(amount),
            price=str(action.price),
            reason=action.reason,
        )
        ctx.store.journal(
            now,
            action.kind.value,
            action.reason,
            symbol=action.symbol,
            amount=str(amount),
            price=str(action.price),
            tier=action.tier,
        )
    if action.is_exit:
        if not await protective_stops.before_exit(ctx, action.symbol, now):
            return  # the exchange stop is selling this position already
        # Whatever else rests on this symbol (a tranche buy, a tier sale) would fight the exit:
        # a buy re-enters what we are leaving, a sale could oversell.
        await cancel_other_orders(ctx, action.symbol, action.key, now)
    elif not orders.repo.by_cause(action.key):
        # A resting tranche buy would fill above the sale before the entry job cancels the
        # rest of the plan: no buying back into a take-profit.
        await cancel_resting_buys(ctx, action.symbol, now)
        await protective_stops.before_sale(
            ctx, book.positions[action.symbol], amount, market, params, now
        )
    record = await orders.submit(
        OrderIntent(
            cause=action.key,
            kind=action.kind.value,
            symbol=action.symbol,
            side=Side.SELL,
            type=OrderType.MARKET,
            amount=amount,
            reason=action.reason,
            tier=action.tier,
        ),
        now,
    )
    if record.status is IntentStatus.REJECTED and action.tier is not None:
        _skip_refused_tier(ctx, action.symbol, action.cycle_id, action.tier, record.last_error, now)


def _skip_refused_tier(
    ctx: JobContext, symbol: str, cycle_id: str, tier: int, error: str | None, now: datetime
) -> None:
    """A tier the venue refused is marked done without a sale: re-sending the same order
    would be refused again, and leaving the tier open would keep break-even and the trailing
    stop from ever arming, leaving the position to the hard stop alone."""
    repo = ctx.services.orders.repo
    marks = repo.marks().get(symbol)
    if marks is None or marks.cycle_id != cycle_id or tier in marks.tiers_skipped:
        return
    repo.save_marks({symbol: replace(marks, tiers_skipped=marks.tiers_skipped | {tier})}, now)
    message = (
        f"{symbol} tier {tier} refused by the venue ({error or 'no reason given'}): marked "
        "skipped; break-even and the trailing stop apply as if it had sold"
    )
    log.warning("tier_skipped", symbol=symbol, tier=tier, error=error)
    ctx.store.journal(now, "tier_skipped", message, level="warning", symbol=symbol, tier=tier)


def _journal_unsellable(
    ctx: JobContext,
    unsellable: dict[str, str],
    skipped: list[tuple[str, int, str]],
    now: datetime,
) -> None:
    """Say once when a holding becomes (or stops being) too small to sell, and each tier
    skipped because of it; the engine repeats both every tick."""
    for symbol, tier, why in skipped:
        log.warning("tier_skipped", symbol=symbol, tier=tier, reason=why)
        ctx.store.journal(now, "tier_skipped", why, level="warning", symbol=symbol, tier=tier)
    state = RuntimeState(ctx.store)
    before = state.unsellable()
    if set(before) == set(unsellable):
        return
    state.set_unsellable(sorted(unsellable), now)
    for symbol in sorted(unsellable.keys() - set(before)):
        log.warning("position_unsellable", symbol=symbol, reason=unsellable[symbol])
        ctx.store.journal(
            now,
            "position_unsellable",
            f"{symbol}: {unsellable[symbol]}",
            level="warning",
            symbol=symbol,
        )


async def cancel_resting_buys(ctx: JobContext, symbol: str, now: datetime) -> int:
    orders = ctx.services.orders
    canceled = 0
    for record in orders.repo.active():
        if record.symbol == symbol and record.side is Side.BUY:
            await orders.cancel(record, now)
            canceled += 1
    return canceled


async def cancel_other_orders(ctx: JobContext, symbol: str, keep_cause: str, now: datetime) -> int:
    orders = ctx.services.orders
    canceled = 0
    for record in orders.repo.active():
        if record.symbol == symbol and record.cause != keep_cause:
            await orders.cancel(record, now)
            canceled += 1
    return canceled


def _rearm_kill_switch(
    ctx: JobContext,
    tripped: bool,
    marks: EquityMarks,
    book: Book,
    unsellable: set[str],
    now: datetime,
) -> EquityMarks | None:
    """Remember when the kill switch tripped; restart the drawdown peak once flat long enough.

    Flat means nothing the bot could still sell and no order working: dust and a holding below
    the venue's minimum sale cannot be exited, so they must not keep the switch tripped."""
    state = RuntimeState(ctx.store)
    since = state.kill_switch_since()
    if not tripped:
        if since:
            state.set_kill_switch_since(None, now)
        return None
    if not since:
        state.set_kill_switch_since(now, now)
        return None
    days = ctx.settings.risk.kill_switch_cooldown_days
    rearmed = rearm_after_kill(
        marks,
        book.equity,
        since,
        now,
        flat=not (book.positions.keys() - unsellable) and not ctx.services.orders.repo.active(),
        cooldown=None if days is None else timedelta(days=days),
    )
    if rearmed is not None:
        state.set_equity_marks(rearmed, now)
        state.set_kill_switch_since(None, now)
        message = (
            f"kill switch re-armed: flat for {days} days since it tripped; the drawdown peak "
            f"restarts at {book.equity:.2f}"
        )
        log.warning("kill_switch_rearmed", equity=str(book.equity), cooldown_days=days)
        ctx.store.journal(now, "kill_switch_rearmed", message, level="warning")
    return rearmed


def _record_block_state(ctx: JobContext, reasons: list[str], now: datetime) -> None:
    state = RuntimeState(ctx.store)
    previous = state.entries_blocked_text()
    if previous != json.dumps(sorted(reasons)):
        state.set_entries_blocked(reasons, now)
        if previous is None and not reasons:
            return  # the first look finding nothing blocked is not news
        if reasons:
            log.warning("entries_blocked", reasons=reasons)
            ctx.store.journal(
                now, "entries_blocked", "; ".join(reasons), level="warning", reasons=reasons
            )
        else:
            log.info("entries_allowed")
            ctx.store.journal(now, "entries_allowed", "no risk limit blocks new entries")
