"""Jobs that touch the venue: reconcile, risk check, paper matching. Each is `job(ctx, now)`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import structlog

from bot.config.risk_params import risk_params
from bot.execution.manager import OrderManager
from bot.jobs import protective_stops
from bot.orders.intents import OrderIntent
from bot.services.context import Context
from bot.state.store import EQUITY_MARKS_KEY
from exchanges.base import ExchangeAdapter, Market, OrderType, Side
from exchanges.errors import ExchangeError
from risk import Action, EquityMarks, Position, RiskParams, evaluate, roll_equity_marks
from risk.limits import global_block_reasons, kill_switch_reasons, rearm_after_kill

log = structlog.get_logger("bot.runtime.registry")

BLOCKED_KEY = "risk.entries_blocked"
LAST_PRICES_KEY = "risk.last_prices"
KILL_SINCE_KEY = "risk.kill_switch_since"


def _orders(ctx: Context) -> OrderManager:
    return ctx.services["orders"]


def _exchange(ctx: Context) -> ExchangeAdapter:
    return ctx.services["exchange"]


def quote_currency(ctx: Context) -> str:
    from bot.config.settings import parse_allocation

    return parse_allocation(ctx.settings.strategy.allocation)[0][0].split("/")[1]


async def reconcile(ctx: Context, now: datetime) -> None:
    report = await _orders(ctx).reconcile(now)
    if report.errors:
        raise ExchangeError("; ".join(report.errors))


def load_equity_marks(ctx: Context) -> EquityMarks | None:
    text = ctx.store.get_value(EQUITY_MARKS_KEY)
    if not text:
        return None
    data = json.loads(text)
    return EquityMarks(
        date.fromisoformat(data["day"]), Decimal(data["day_start"]), Decimal(data["peak"])
    )


def _save_equity_marks(ctx: Context, marks: EquityMarks, now: datetime) -> None:
    ctx.store.set_value(
        EQUITY_MARKS_KEY,
        json.dumps(
            {
                "day": marks.day.isoformat(),
                "day_start": str(marks.equity_day_start),
                "peak": str(marks.equity_peak),
            }
        ),
        now,
    )


@dataclass(frozen=True)
class Book:
    """The account as the risk rules need it at one moment."""

    markets: dict[str, Market]
    positions: dict[str, Position]
    prices: dict[str, Decimal]
    dust: dict[str, Decimal]
    equity: Decimal
    cash: Decimal


async def value_book(ctx: Context, now: datetime) -> Book | None:
    """Sync fills, then value every open position at the bid; None when nothing was ever traded."""
    orders, exchange = _orders(ctx), _exchange(ctx)
    symbols = sorted(set(orders.repo.fill_symbols()) | set(orders.repo.symbols()))
    if not symbols:
        return None  # nothing held, nothing ordered: no need to wake the venue
    for symbol in symbols:
        await orders.sync_fills(symbol, now)
    markets = await exchange.load_markets()
    dust = {s: (markets[s].min_amount or Decimal(0)) for s in symbols if s in markets}
    positions = {
        s: p for s, p in orders.positions(dust).items() if p.is_open(dust.get(s, Decimal(0)))
    }
    prices: dict[str, Decimal] = {}
    for symbol in positions:
        ticker = await exchange.fetch_ticker(symbol)
        # A long is exited at the bid: judge stops and tiers on what a sale would get.
        price = ticker.bid or ticker.last
        if price is not None:
            prices[symbol] = price
    balances = await exchange.fetch_balances()
    quote = balances.get(quote_currency(ctx))
    held = sum((p.size * prices[s] for s, p in positions.items() if s in prices), Decimal(0))
    equity = (quote.total if quote else Decimal(0)) + held
    ctx.store.set_value(LAST_PRICES_KEY, json.dumps({s: str(p) for s, p in prices.items()}), now)
    return Book(markets, positions, prices, dust, equity, quote.free if quote else Decimal(0))


async def risk_check(ctx: Context, now: datetime) -> None:
    """Value the book, run the pure risk engine, hand its exits to the order manager."""
    from bot.jobs.panic import PANIC_REQUEST_KEY, panic

    if ctx.store.get_value(PANIC_REQUEST_KEY):
        await panic(ctx, now)  # asked for by `qtbot panic` while this daemon held the lock
        return
    orders = _orders(ctx)
    book = await value_book(ctx, now)
    if book is None:
        _record_block_state(ctx, [], now)
        return
    equity_marks = roll_equity_marks(load_equity_marks(ctx), book.equity, now)
    _save_equity_marks(ctx, equity_marks, now)
    from bot.ops.web.series import record_equity

    record_equity(ctx.store, now, book.equity, book.cash)
    params = risk_params(ctx.settings.risk, risk_off=ctx.store.risk_off(), dust_by_symbol=book.dust)
    decision = evaluate(
        book.positions,
        orders.repo.marks(),
        book.prices,
        equity_marks.account(book.equity, book.cash),
        params,
        now,
    )
    orders.repo.save_marks(decision.new_marks, now)
    reasons = decision.block_reasons
    rearmed = _rearm_kill_switch(ctx, decision.kill_switch, equity_marks, book, now)
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
    ctx: Context, action: Action, book: Book, params: RiskParams, now: datetime
) -> None:
    orders = _orders(ctx)
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
        await protective_stops.before_sale(
            ctx, book.positions[action.symbol], amount, market, params, now
        )
    await orders.submit(
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


async def cancel_other_orders(ctx: Context, symbol: str, keep_cause: str, now: datetime) -> int:
    orders = _orders(ctx)
    canceled = 0
    for record in orders.repo.active():
        if record.symbol == symbol and record.cause != keep_cause:
            await orders.cancel(record, now)
            canceled += 1
    return canceled


def _rearm_kill_switch(
    ctx: Context, tripped: bool, marks: EquityMarks, book: Book, now: datetime
) -> EquityMarks | None:
    """Remember when the kill switch tripped; restart the drawdown peak once flat long enough."""
    since_text = ctx.store.get_value(KILL_SINCE_KEY)
    if not tripped:
        if since_text:
            ctx.store.set_value(KILL_SINCE_KEY, "", now)
        return None
    if not since_text:
        ctx.store.set_value(KILL_SINCE_KEY, now.isoformat(), now)
        return None
    days = ctx.settings.risk.kill_switch_cooldown_days
    rearmed = rearm_after_kill(
        marks,
        book.equity,
        datetime.fromisoformat(since_text),
        now,
        flat=not book.positions and not _orders(ctx).repo.active(),
        cooldown=None if days is None else timedelta(days=days),
    )
    if rearmed is not None:
        _save_equity_marks(ctx, rearmed, now)
        ctx.store.set_value(KILL_SINCE_KEY, "", now)
        message = (
            f"kill switch re-armed: flat for {days} days since it tripped; the drawdown peak "
            f"restarts at {book.equity:.2f}"
        )
        log.warning("kill_switch_rearmed", equity=str(book.equity), cooldown_days=days)
        ctx.store.journal(now, "kill_switch_rearmed", message, level="warning")
    return rearmed


def _record_block_state(ctx: Context, reasons: list[str], now: datetime) -> None:
    text = json.dumps(sorted(reasons))
    previous = ctx.store.get_value(BLOCKED_KEY)
    if previous != text:
        ctx.store.set_value(BLOCKED_KEY, text, now)
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


async def paper_match(ctx: Context, now: datetime) -> None:
    """Let resting paper orders meet the market (the paper engine's own clockwork)."""
    engine = _exchange(ctx)
    match = getattr(engine, "match_resting", None)
    if match is not None:
        await match()
