"""`qtbot panic`: cancel every open order, sell every position at market, stop new entries.

The sale uses the same cause as any other exit of the position's cycle, so a panic and a
trailing-stop exit racing each other still place one sell order, not two.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from bot.jobs.book import value_book
from bot.orders.intents import OrderIntent
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState
from exchanges.base import OrderType, Side

log = structlog.get_logger("bot.jobs.panic")


async def panic(ctx: JobContext, now: datetime) -> list[str]:
    """Flatten everything; returns one line per thing done, for the user and the journal."""
    orders = ctx.services.orders
    ctx.store.set_risk_off(True, now, "panic: new entries stopped")
    done: list[str] = []
    for record in orders.repo.active():
        result = await orders.cancel(record, now)
        done.append(f"canceled {record.client_order_id} ({record.kind}): {result.status}")
    book = await value_book(ctx, now)
    for symbol, position in sorted((book.positions if book else {}).items()):
        amount = book.markets[symbol].round_amount(position.size) if book else position.size
        if amount <= 0:
            continue
        record = await orders.submit(
            OrderIntent(
                cause=f"{symbol}|{position.cycle_id}|exit",
                kind="panic",
                symbol=symbol,
                side=Side.SELL,
                type=OrderType.MARKET,
                amount=amount,
                reason="panic: sell everything at market",
            ),
            now,
        )
        done.append(f"sell {amount} {symbol} at market: {record.status}")
        await orders.sync_fills(symbol, now)
    ctx.store.journal(
        now, "panic", "panic: " + ("; ".join(done) or "nothing to do"), level="warning"
    )
    log.warning("panic_done", actions=done)
    RuntimeState(ctx.store).set_panic_requested(False, now)
    return done
