"""Sending the risk engine's exits without losing one to a failed request.

A tier sale shrinks the exchange stop first (the venue reserves the stop's base); an exit of
everything cancels it (`bot.jobs.protective_stops`). While that fails - the venue refused the
shrink, did not answer, the cancel failed - the base is still held and the sale is not sent:
the decision is recorded as an intent refused with `base_held` (it survives a restart) and one
warning is journaled ("tier 1 waits: the exchange stop still holds ..."). A sale the venue
refuses for insufficient balance is recorded with `insufficient_funds` and journaled the same
way. Every tick both come back, whether or not the engine still asks for them (the price may
have moved back: the decision stands): once the stop is shrunk or canceled - and, after a
refusal for funds, the venue reports the base free - the cause gets a fresh attempt with the
next deterministic client id, recorded before it is sent. This covers the panic's sale too
(same cause as the cycle's exit).

Any other refusal (a filter, a minimum) is final: a refused tier is marked skipped, so
break-even and the trailing stop still arm.

A tier sale first cancels the symbol's resting tranche buys (no buying back into a
take-profit), and is sized against the position as recorded then (another tier may have sold
this tick); an exit of everything sells what is held when it is sent, not when the book was
valued (the exchange stop may have sold part meanwhile). Both run under the order manager's
`stop_lock`, so no stop sync sizes a stop from a position the sale is changing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import structlog

from bot.execution.book import Book
from bot.jobs import protective_stops
from bot.jobs.protective_stops import FREE
from bot.orders.intents import IntentStatus, OrderIntent, OrderRecord, Refusal
from bot.orders.protective_stop import KIND
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
from exchanges.base import OrderType, Side
from exchanges.errors import ExchangeError
from risk.actions import Action
from risk.params import RiskParams

log = structlog.get_logger("bot.jobs")

# A cause whose last order ended like this is sent again by `submit` (a new attempt).
_RESEND = (IntentStatus.CANCELED, IntentStatus.EXPIRED, IntentStatus.NOT_FOUND)
_SOLD = (IntentStatus.CLOSED, IntentStatus.CANCELED, IntentStatus.EXPIRED)
# Follow-up exits of one cycle (each after the last filled with something still held).
_MAX_EXIT_CHAIN = 20


async def execute(
    ctx: JobContext, action: Action, book: Book, params: RiskParams, now: datetime
) -> OrderRecord | None:
    """Send one of the engine's actions; the order's record, or None when nothing went out
    (waiting for the base, or the exchange stop is selling)."""
    orders = ctx.services.orders
    amount = book.markets[action.symbol].round_amount(action.amount)
    if amount <= 0:
        log.warning("exit_below_step", symbol=action.symbol, amount=str(action.amount))
        return None
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
    intent = OrderIntent(
        cause=action.key,
        kind=action.kind.value,
        symbol=action.symbol,
        side=Side.SELL,
        type=OrderType.MARKET,
        amount=amount,
        reason=action.reason,
        tier=action.tier,
    )
    record = await send(ctx, intent, action.is_exit, book, params, now)
    if (
        record is not None
        and action.tier is not None
        and record.status is IntentStatus.REJECTED
        and not record.retry_when_free  # refused for the base: retried, not skipped
    ):
        _skip_refused_tier(ctx, action.symbol, action.cycle_id, action.tier, record.last_error, now)
    return record


async def retry_waiting(
    ctx: JobContext, book: Book, params: RiskParams, emitted: set[str], now: datetime
) -> dict[str, list[OrderRecord | None]]:
    """Send again each decided exit of an open position that waits for its base and that the
    engine did not ask for this tick (`emitted`: the keys it did). Per symbol, what went out."""
    orders = ctx.services.orders
    sent: dict[str, list[OrderRecord | None]] = {}
    live: set[str] = set()
    suffixes = _cause_suffixes(len(params.take_profit_tiers))
    for symbol, position in sorted(book.positions.items()):
        market = book.markets.get(symbol)
        if market is None:
            continue
        prefix = f"{symbol}|{position.cycle_id or ''}|"
        for suffix in suffixes:
            cause = prefix + suffix
            is_exit = suffix == "exit"
            newest = _chain_end(ctx, cause) if is_exit else cause
            live.add(cause)
            live.add(newest)
            history = orders.repo.by_cause(newest) if cause not in emitted else []
            if not history or not _unfinished(ctx, history[-1], is_exit):
                continue
            latest = history[-1]
            size = market.round_amount(position.size)
            amount = size if latest.tier is None else min(latest.amount, size)
            if amount <= 0:
                continue
            intent = OrderIntent(
                cause=cause,
                kind=latest.kind,
                symbol=symbol,
                side=Side.SELL,
                type=OrderType.MARKET,
                amount=amount,
                reason=latest.reason,
                tier=latest.tier,
            )
            record = await send(ctx, intent, is_exit, book, params, now)
            sent.setdefault(symbol, []).append(record)
    _forget_waits(ctx, live | emitted, now)
    return sent


async def send(
    ctx: JobContext,
    intent: OrderIntent,
    is_exit: bool,
    book: Book,
    params: RiskParams,
    now: datetime,
) -> OrderRecord | None:
    """Free the base the exchange stop holds, then sell (see the module doc)."""
    orders = ctx.services.orders
    symbol = intent.symbol
    async with orders.stop_lock:
        if is_exit:
            exit_now = await _exit_to_send(ctx, intent, book, now)
            if exit_now is None:
                return None
            intent = exit_now
        history = orders.repo.by_cause(intent.cause)
        latest = history[-1] if history else None
        due = latest is None or latest.retry_when_free or latest.status in _RESEND
        if is_exit:
            check = await protective_stops.before_exit(ctx, symbol, now)
            if not check.executing:
                # A tranche buy would re-enter what we are leaving, a tier sale oversell.
                await cancel_other_orders(ctx, symbol, intent.cause, now)
        elif due:
            # A resting tranche buy would fill above the sale before the entry job cancels the
            # rest of the plan: no buying back into a take-profit.
            await cancel_resting_buys(ctx, symbol, now)
            # As it is now: another tier may have sold this tick (two due at once), an exit
            # may have sold everything, the exchange stop may have filled.
            await orders.sync_fills(symbol, now)
            position = orders.position(symbol, book.dust.get(symbol, Decimal(0)))
            held = book.markets[symbol].round_amount(position.size)
            cycle = intent.cause.split("|")[1] if intent.cause.count("|") >= 2 else None
            if not position.is_open(book.dust.get(symbol, Decimal(0))) or (
                cycle is not None and cycle != (position.cycle_id or "")
            ):
                return None  # the cycle this tier belonged to is over: nothing to sell
            if held <= 0:
                return None
            if held < intent.amount:
                intent = replace(intent, amount=held)
            check = await protective_stops.before_sale(
                ctx, position, intent.amount, book.markets[symbol], params, now
            )
        else:
            check = FREE
        if check.executing:
            return None
        if not check.free:
            if due:
                await orders.hold(intent, now, check.why)
                _wait(ctx, intent, check.why, now)
            return None
        if due and latest is not None and latest.refusal is Refusal.FUNDS:
            short = await _base_short(ctx, symbol, intent.amount)
            if short:
                _wait(ctx, intent, short, now)
                return None
        record = await orders.submit(intent, now)
        if record.filled > 0:
            # Before the lock goes: a stop sized from the store must see this sale.
            await orders.sync_fills(symbol, now)
    if record.retry_when_free:
        _wait(
            ctx,
            intent,
            f"the venue refused it for insufficient balance ({record.last_error}); a fresh "
            "order follows once the base is free",
            now,
        )
    elif record.status is not IntentStatus.REJECTED:
        _resume(ctx, intent, record, now)
    return record


def _unfinished(ctx: JobContext, latest: OrderRecord, is_exit: bool) -> bool:
    """A decided sale of an open position still to go out: refused for the base, or (an exit
    of everything) ended with the position still open - expired or canceled part-filled, or
    filled while more was bought."""
    if latest.retry_when_free:
        return True
    if not is_exit:
        return False
    if latest.status is IntentStatus.CLOSED:
        return ctx.services.orders.repo.fills_recorded([latest])
    return latest.status in _RESEND and ctx.services.orders.repo.fills_recorded([latest])


async def _exit_to_send(
    ctx: JobContext, intent: OrderIntent, book: Book, now: datetime
) -> OrderIntent | None:
    """The exit of everything as it must go out now: all that is held now (the exchange stop
    may have sold part since the book was valued, a tranche may have bought more), under the
    cycle's exit cause or, once that order filled and something is still held (bought while
    it went out), the next cause of its chain ("<cause>|1", ...). None when nothing is left,
    or a filled exit's fills are not recorded yet (the position is not current)."""
    orders = ctx.services.orders
    symbol = intent.symbol
    await orders.sync_fills(symbol, now)
    dust = book.dust.get(symbol, Decimal(0))
    held = orders.position(symbol, dust)
    if not held.is_open(dust):
        return None
    cause = intent.cause
    for step in range(1, _MAX_EXIT_CHAIN + 1):
        history = orders.repo.by_cause(cause)
        if not history or history[-1].status is not IntentStatus.CLOSED:
            break
        if not orders.repo.fills_recorded(history[-1:]):
            return None
        cause = f"{intent.cause}|{step}"
    amount = book.markets[symbol].round_amount(held.size)
    if cause != intent.cause and not orders.repo.by_cause(cause):
        message = (
            f"{symbol} {intent.kind} exit: {amount} still held after its last order filled "
            "(bought while it went out): sold too"
        )
        log.warning("exit_continued", symbol=symbol, cause=cause, amount=str(amount))
        ctx.store.journal(now, "exit_continued", message, level="warning", symbol=symbol)
    return replace(intent, cause=cause, amount=amount)


@functools.lru_cache(maxsize=16)
def _cause_suffixes(tiers: int) -> tuple[str, ...]:
    """The causes a position's sales are decided under, after its `symbol|cycle|` prefix:
    the exit of everything, then each take-profit tier (asked on every risk run)."""
    return ("exit", *(f"tp{n}" for n in range(1, tiers + 1)))


def _chain_end(ctx: JobContext, cause: str) -> str:
    """The newest cause of an exit's chain (see `_exit_to_send`)."""
    repo = ctx.services.orders.repo
    last = cause
    for step in range(1, _MAX_EXIT_CHAIN + 1):
        if not repo.by_cause(f"{cause}|{step}"):
            break
        last = f"{cause}|{step}"
    return last


def sold_through(ctx: JobContext, record: OrderRecord | None) -> bool:
    """The sale is over at the venue and its fills are recorded: the position is current."""
    return (
        record is not None
        and record.status in _SOLD
        and ctx.services.orders.repo.fills_recorded([record])
    )


async def _base_short(ctx: JobContext, symbol: str, amount: Decimal) -> str | None:
    """Why the venue's free base is short of `amount` (None: it is not)."""
    base = symbol.partition("/")[0]
    try:
        balance = (await ctx.services.exchange.fetch_balances()).get(base)
    except ExchangeError as exc:
        return f"the free {base} balance could not be read ({exc.reason}); checked next tick"
    free = balance.free if balance else Decimal(0)
    if free >= amount:
        return None
    return f"the venue reports {free} {base} free, the sale needs {amount}; checked next tick"


def _label(intent: OrderIntent) -> str:
    what = f"tier {intent.tier}" if intent.tier is not None else f"{intent.kind} exit"
    return f"{intent.symbol} {what}"


def _wait(ctx: JobContext, intent: OrderIntent, why: str, now: datetime) -> None:
    """Journal (a warning, so it is notified) that a decided sale waits; once per reason."""
    state = RuntimeState(ctx.store)
    waits = state.exit_waits()
    if waits.get(intent.cause) == why:
        log.info("exit_still_waiting", cause=intent.cause, why=why)
        return
    waits[intent.cause] = why
    state.set_exit_waits(waits, now)
    log.warning("exit_waiting", cause=intent.cause, symbol=intent.symbol, why=why)
    ctx.store.journal(
        now,
        "exit_waiting",
        f"{_label(intent)} waits: {why}",
        level="warning",
        symbol=intent.symbol,
        tier=intent.tier,
        cause=intent.cause,
        amount=str(intent.amount),
    )


def _resume(ctx: JobContext, intent: OrderIntent, record: OrderRecord, now: datetime) -> None:
    state = RuntimeState(ctx.store)
    waits = state.exit_waits()
    if waits.pop(intent.cause, None) is None:
        return
    state.set_exit_waits(waits, now)
    log.warning("exit_resumed", cause=intent.cause, client_order_id=record.client_order_id)
    ctx.store.journal(
        now,
        "exit_resumed",
        f"{_label(intent)} sent after waiting: {record.client_order_id} {record.status} "
        f"(filled {record.filled} of {record.amount})",
        level="warning",
        symbol=intent.symbol,
        tier=intent.tier,
        client_order_id=record.client_order_id,
    )


def _forget_waits(ctx: JobContext, live: set[str], now: datetime) -> None:
    """Waits of a position cycle that is over (sold by the exchange stop meanwhile) end."""
    state = RuntimeState(ctx.store)
    waits = state.exit_waits()
    stale = sorted(set(waits) - live)
    if not stale:
        return
    for cause in stale:
        log.info("exit_wait_ended", cause=cause, why="the position cycle is over")
    state.set_exit_waits({c: w for c, w in waits.items() if c in live}, now)


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


async def cancel_resting_buys(ctx: JobContext, symbol: str, now: datetime) -> None:
    await _cancel_active(ctx, symbol, now, lambda record: record.side is Side.BUY)


async def cancel_other_orders(ctx: JobContext, symbol: str, keep_cause: str, now: datetime) -> None:
    """Cancel what else rests on `symbol` before an exit of everything; the exchange stop is
    `before_exit`'s."""
    await _cancel_active(
        ctx, symbol, now, lambda record: record.cause != keep_cause and record.kind != KIND
    )


async def _cancel_active(
    ctx: JobContext, symbol: str, now: datetime, which: Callable[[OrderRecord], bool]
) -> None:
    orders = ctx.services.orders
    for record in orders.repo.active():
        if record.symbol == symbol and which(record):
            await orders.cancel(record, now)
