"""The risk job: value the book, run the pure risk engine, hand its exits to the order manager.

Also keeps what the risk rules need between runs (equity watermarks, the kill switch's trip
time) and what readers show (which limits block new entries), through `RuntimeState`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from bot.config.risk_params import risk_params
from bot.execution.book import Book
from bot.jobs import exits, protective_stops
from bot.jobs.book import value_book
from bot.jobs.panic import panic
from bot.jobs.stop_watch import check_resting
from bot.orders.intents import OrderRecord
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
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
    state.set_dust(book.dust, now)
    await check_resting(ctx, now)
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
    sent: dict[str, list[OrderRecord | None]] = {}
    for action in decision.actions:
        sent.setdefault(action.symbol, []).append(
            await exits.execute(ctx, action, book, params, now)
        )
    emitted = {a.key for a in decision.actions}
    for symbol, records in (await exits.retry_waiting(ctx, book, params, emitted, now)).items():
        sent.setdefault(symbol, []).extend(records)
    await _sync_stops_after(ctx, book, params, sent, now)


async def _sync_stops_after(
    ctx: JobContext,
    book: Book,
    params: RiskParams,
    sent: dict[str, list[OrderRecord | None]],
    now: datetime,
) -> None:
    """The exchange stops follow the positions as they are after this tick's sales: a symbol
    whose sales are over with their fills recorded is synced at its new size now; one with a
    sale still working or waiting for its base is left for the next tick."""
    orders = ctx.services.orders
    skip = set()
    for symbol, records in sent.items():
        await orders.sync_fills(symbol, now)
        if not all(exits.sold_through(ctx, r) for r in records):
            skip.add(symbol)
    await protective_stops.sync_stops(ctx, book.markets, params, book.dust, now, skip=skip)


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
    # Nothing blocks on nearly every run: its text needs no encoding.
    if previous != (json.dumps(sorted(reasons)) if reasons else "[]"):
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
