"""Every risk tick: are the exchange stops the store holds still resting on the venue?

One open-orders call for all symbols. A stop the venue no longer lists is looked up by its
client id: canceled there (by hand, by the venue, by an account event) it is recorded so, a
warning is journaled and the same tick's stop sync places a new one; filled or triggered, its
fills are recorded. Stops whose last send or move has no answer yet are looked up too, rather
than waiting for the periodic reconcile. What the venue said, and when, is kept for
`qtbot status` (`RuntimeState.stop_check`), which reads the store only.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from bot.jobs.protective_stops import enabled
from bot.orders.intents import IntentStatus, OrderRecord
from bot.orders.protective_stop import KIND
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState, StopCheck
from exchanges.base import Order
from exchanges.errors import ExchangeError

log = structlog.get_logger("bot.stops")

_GONE = (IntentStatus.CANCELED, IntentStatus.EXPIRED, IntentStatus.NOT_FOUND)


async def check_resting(ctx: JobContext, now: datetime) -> StopCheck | None:
    """Compare the active exchange stops with the venue's open orders (see the module doc);
    None when there was nothing to check or the venue did not answer (logged: the previous
    check stays, older)."""
    if not enabled(ctx):
        return None
    orders = ctx.services.orders
    async with orders.stop_lock:
        stops = [r for r in orders.repo.active() if r.kind == KIND]
        if not stops:
            return None
        try:
            listed = await ctx.services.exchange.fetch_open_orders(None)
        except ExchangeError as exc:
            log.warning("exchange_stop_check_failed", error=str(exc))
            return None
        venue = {o.client_order_id: o for o in listed}
        state = RuntimeState(ctx.store)
        previous = state.stop_check()
        vanished = dict(previous.vanished) if previous else {}
        traded: set[str] = set()
        for record in stops:
            row = venue.get(record.client_order_id)
            if row is not None and record.status is IntentStatus.OPEN:
                if _executing(row, record):
                    await orders.refresh(record, now)
                    traded.add(record.symbol)
                continue
            current = await orders.refresh(record, now)
            if record.status is IntentStatus.OPEN and current.status in _GONE:
                if current.filled == 0:
                    _journal_vanished(ctx, current, now)
                    vanished[record.symbol] = (record.client_order_id, now)
                else:
                    traded.add(record.symbol)
            elif current.status is IntentStatus.CLOSED or current.filled > record.filled:
                traded.add(record.symbol)
        for symbol in sorted(traded):
            await orders.sync_fills(symbol, now)
        ours = {r.client_order_id for r in stops}
        check = StopCheck(now, frozenset(ours & venue.keys()), vanished)
        state.set_stop_check(check, now)
        return check


def _executing(row: Order, record: OrderRecord) -> bool:
    """The venue lists the stop as open but it has triggered or filled part: record it."""
    return row.triggered or row.filled > record.filled


def _journal_vanished(ctx: JobContext, record: OrderRecord, now: datetime) -> None:
    base = record.symbol.partition("/")[0]
    log.warning(
        "exchange_stop_vanished", symbol=record.symbol, client_order_id=record.client_order_id
    )
    ctx.store.journal(
        now,
        "exchange_stop_missing",
        f"the exchange stop {record.client_order_id} (sell {record.amount} {base} at "
        f"{record.trigger_price}) is no longer on the venue: canceled there, not by the daemon "
        f"({record.status}); a new one is placed now",
        level="warning",
        symbol=record.symbol,
        client_order_id=record.client_order_id,
    )
