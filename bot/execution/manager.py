"""The one choke point to the venue.

For each intent: derive the client order id from its cause, record the intent, send, record
the result. Error policy (see exchanges/errors.py for the taxonomy):

- OrderOutcomeUnknown (timeout or dropped connection after sending) and RetryableError on
  create: the order *may* be live. Status `unknown`; nothing is sent for that cause until a
  lookup by client id has resolved it.
- DuplicateClientOrderId: the venue already has it (an earlier send we lost track of): look it
  up and adopt it.
- OrderRejected / AuthenticationFailed: status `rejected` (refusal `final`), journaled; the
  same cause is never sent again.
- InsufficientFunds: status `rejected` with refusal `insufficient_funds`; so is an intent the
  caller records without sending because the base it would sell is still held (`hold`). Such
  a cause gets a new attempt (the next client id) when it is submitted again: the caller does
  that once the base is free (an exchange stop shrunk or canceled).
- A cause whose last order ended canceled or expired with nothing filled gets a new attempt
  with the next sequence number (a new, still deterministic client id).
- A cancelled caller (a daemon stop past its grace) never cuts a send, cancel or stop move
  between the venue call and the record of its answer: it waits for that record, then the
  cancellation goes on (`bot.execution.uninterrupted`).

Reconciliation (start-up and periodic) asks the venue about every active intent, records
fills it has not seen and journals each discrepancy it repairs.

`protect_positions`, when set, is awaited with the symbols whose position may lack its
exchange stop, once the venue lock is released: those whose holding grew through buy fills
this manager recorded (inside `reconcile`, or right after a `submit` that bought something),
and after a reconcile those held without an active stop. So the job that records a fill is
the one that protects it, and the start-up reconcile protects what the daemon finds
unprotected before it reports ready (`bot.jobs.protective_stops.attach`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from bot.execution.uninterrupted import finish_then_cancel
from bot.orders.intents import (
    ACTIVE,
    UNRESOLVED,
    IllegalTransition,
    IntentStatus,
    OrderIntent,
    OrderRecord,
    Refusal,
    from_venue,
)
from bot.orders.protective_stop import KIND as STOP_KIND
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from exchanges.base import ExchangeAdapter, Fill, MalformedRow, Order, OrderRequest, Side
from exchanges.client_ids import client_order_id
from exchanges.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    OrderOutcomeUnknown,
    OrderRejected,
    RetryableError,
    StopReplaceFailed,
    StopTriggered,
)
from risk.position import Position, PositionReplay

log = structlog.get_logger("bot.orders")

# Trades are re-read with this overlap so a fill reported late is still picked up.
FILL_SYNC_OVERLAP = timedelta(minutes=30)
VENUE_ROW_SKIPPED = "venue_row_skipped"
# How many earlier skipped-row entries are checked so that a row is journaled only once.
SKIPPED_ROWS_REMEMBERED = 500


# Awaited with (symbols whose position may lack its exchange stop, now): see the module doc.
PositionsHook = Callable[[list[str], datetime], Awaitable[None]]


def _skipped_row_key(symbol: str | None, data: Mapping[str, object]) -> tuple[object, ...]:
    return (symbol, *(data.get(k) for k in ("row_kind", "venue_id", "venue_order_id", "reason")))


@dataclass(frozen=True)
class StopReplaceOutcome:
    """What `replace_stop` did: the stop resting now (None: none), whether it moved, and
    whether the position was left without a venue stop."""

    resting: OrderRecord | None
    moved: bool = False
    unprotected: bool = False
    method: str = ""
    unprotected_ms: int | None = None
    error: str | None = None


@dataclass
class ReconcileReport:
    checked: int = 0
    repaired: list[str] = field(default_factory=list)
    new_fills: int = 0
    errors: list[str] = field(default_factory=list)
    grown: set[str] = field(default_factory=set)  # symbols with new buy fills


class OrderManager:
    def __init__(self, store: Store, adapter: ExchangeAdapter, exchange_id: str) -> None:
        self.store = store
        self.repo = store.order_repo()
        self.adapter = adapter
        self.exchange_id = exchange_id
        # One decision at a time reaches the venue: the risk, entry and reconcile jobs share it.
        self.lock = asyncio.Lock()
        # One look-then-act on the exchange stops at a time (a job's tick and a fill listener):
        # each acts on what it read, never on a stop another one has just moved.
        self.stop_lock = asyncio.Lock()
        self.protect_positions: PositionsHook | None = None
        # Positions only change when this process records a fill (it holds the instance lock).
        self._positions: dict[tuple[str, Decimal], Position] = {}
        # A new fill replays only itself onto the kept position (same result as a full replay).
        self._replays: dict[tuple[str, Decimal], PositionReplay] = {}
        # Per symbol, the last fill sync's window start and the trades the venue listed in it.
        self._synced: dict[str, tuple[datetime | None, tuple[str, ...]]] = {}

    def client_id(self, cause: str, attempt: int = 0) -> str:
        parts = (cause,) if attempt == 0 else (cause, f"retry{attempt}")
        return client_order_id(self.exchange_id, *parts)

    # --- placing ---------------------------------------------------------------------------

    async def submit(self, intent: OrderIntent, now: datetime) -> OrderRecord:
        """Place `intent` at most once per cause; returns the stored record after the attempt."""
        async with self.lock:
            record = await finish_then_cancel(self._submit(intent, now))
        if self.protect_positions is not None and record.side is Side.BUY and record.filled > 0:
            await self._protect_new_buys(record.symbol, now)
        return record

    async def hold(self, intent: OrderIntent, now: datetime, why: str) -> OrderRecord:
        """Record `intent` as decided but not sent because the base it sells is still held
        (refusal `base_held`): the decision survives a restart, and the cause gets its next
        attempt from `submit` once the base is free. Nothing is recorded twice in a row."""
        async with self.lock:
            history = self.repo.by_cause(intent.cause)
            if history and history[-1].retry_when_free:
                return history[-1]
            record = self.repo.insert_intent(
                self.client_id(intent.cause, len(history)), intent, now
            )
            return self.repo.update(
                record.client_order_id,
                now,
                IntentStatus.REJECTED,
                error=f"not sent: {why}",
                refusal=Refusal.HELD,
            )

    async def _protect_new_buys(self, symbol: str, now: datetime) -> None:
        """Record the fills of a buy that just filled; hand its symbol to `protect_positions`."""
        try:
            new = await self.sync_fills(symbol, now)
        except ExchangeError as exc:  # the next sync records them; the order stands
            log.warning("fill_sync_failed", symbol=symbol, error=str(exc))
            return
        if any(f.side is Side.BUY for f in new) and self.protect_positions is not None:
            await self.protect_positions([symbol], now)

    async def _submit(self, intent: OrderIntent, now: datetime) -> OrderRecord:
        history = self.repo.by_cause(intent.cause)
        latest = history[-1] if history else None
        if latest is not None and latest.status in UNRESOLVED:
            latest = await self._resolve(latest, now)
        if latest is not None:
            if latest.status in ACTIVE or latest.status is IntentStatus.CLOSED:
                return latest  # live or done: never a second order for the same cause
            if latest.status is IntentStatus.REJECTED and not latest.retry_when_free:
                return latest  # refused for good: the same request would be refused again
            if latest.status is IntentStatus.NOT_FOUND:
                record = self.repo.update(latest.client_order_id, now, IntentStatus.PENDING)
                return await self._send(record, now)
            if latest.filled > 0 and not self.repo.fills_recorded(history):
                # Canceled/expired after a partial fill: a new attempt is safe only once those
                # fills are in the store, so the caller's amount already counts them.
                return latest
        record = self.repo.insert_intent(self.client_id(intent.cause, len(history)), intent, now)
        return await self._send(record, now)

    async def _send(self, record: OrderRecord, now: datetime) -> OrderRecord:
        request = OrderRequest(
            client_order_id=record.client_order_id,
            symbol=record.symbol,
            side=record.side,
            type=record.type,
            amount=record.amount,
            price=record.price,
            trigger_price=record.trigger_price,
        )
        # The ids every line below carries (as a bound logger would, without building one per
        # send: a backtest sends hundreds).
        ids = {"client_order_id": record.client_order_id, "symbol": record.symbol}
        try:
            order = await self.adapter.create_order(request)
        except (OrderOutcomeUnknown, RetryableError) as exc:
            log.warning("order_outcome_unknown", **ids, error=str(exc))
            self.store.journal(
                now,
                "order_unknown",
                f"send of {record.client_order_id} has no answer: {exc}; "
                "it will be looked up before any retry",
                level="warning",
                symbol=record.symbol,
            )
            return self.repo.update(
                record.client_order_id, now, IntentStatus.UNKNOWN, error=str(exc), sent=True
            )
        except DuplicateClientOrderId:
            log.warning("order_already_at_venue", **ids)
            unknown = self.repo.update(record.client_order_id, now, IntentStatus.UNKNOWN, sent=True)
            return await self._resolve(unknown, now)
        except (OrderRejected, AuthenticationFailed) as exc:
            refusal = Refusal.FUNDS if isinstance(exc, InsufficientFunds) else Refusal.FINAL
            log.warning("order_rejected", **ids, reason=str(exc), refusal=refusal.value)
            self.store.journal(
                now,
                "order_rejected",
                f"{record.client_order_id} rejected: {exc}",
                level="warning",
                symbol=record.symbol,
                refusal=refusal.value,
            )
            return self.repo.update(
                record.client_order_id,
                now,
                IntentStatus.REJECTED,
                error=str(exc),
                sent=True,
                refusal=refusal,
            )
        log.info("order_placed", **ids, status=order.status.value, filled=str(order.filled))
        return self.repo.update(
            record.client_order_id, now, from_venue(order.status), order=order, sent=True
        )

    async def _resolve(self, record: OrderRecord, now: datetime) -> OrderRecord:
        """Ask the venue about an intent whose send outcome we do not know."""
        try:
            order = await self.adapter.fetch_order(record.symbol, record.client_order_id)
        except ExchangeError as exc:
            log.warning(
                "order_lookup_failed", client_order_id=record.client_order_id, error=str(exc)
            )
            return record  # still unresolved: nothing is sent for this cause meanwhile
        return self._apply_lookup(record, order, now)

    def _apply_lookup(self, record: OrderRecord, order: Order | None, now: datetime) -> OrderRecord:
        if order is None:
            new = IntentStatus.NOT_FOUND
            if record.status is IntentStatus.OPEN:
                self._discrepancy(now, record, "the venue no longer knows this open order")
            return self.repo.update(record.client_order_id, now, new)
        new = from_venue(order.status)
        if new is not record.status:
            # An open order filling or expiring at the venue is routine, not a discrepancy.
            log.info(
                "order_update",
                client_order_id=record.client_order_id,
                before=record.status.value,
                after=new.value,
                filled=str(order.filled),
            )
        try:
            return self.repo.update(record.client_order_id, now, new, order=order)
        except IllegalTransition as exc:
            # A venue report that contradicts a final state (closed -> open) is kept out of the
            # store; the journal says so and the next lookup tries again.
            self._discrepancy(now, record, f"venue report ignored: {exc}")
            return record

    def _discrepancy(self, now: datetime, record: OrderRecord, what: str) -> None:
        log.warning("reconcile_discrepancy", client_order_id=record.client_order_id, detail=what)
        self.store.journal(
            now,
            "reconcile",
            f"{record.client_order_id}: {what} (store repaired)",
            level="warning",
            symbol=record.symbol,
        )

    async def replace_stop(
        self,
        record: OrderRecord,
        intent: OrderIntent,
        request_for: Callable[[str], OrderRequest],
        position_amount: Decimal,
        now: datetime,
    ) -> StopReplaceOutcome:
        """Move a resting stop through the venue's replace: the new intent is recorded before
        anything is sent; the venue's answer updates both records."""
        async with self.lock:
            return await finish_then_cancel(
                self._replace_stop(record, intent, request_for, position_amount, now)
            )

    async def _replace_stop(
        self,
        record: OrderRecord,
        intent: OrderIntent,
        request_for: Callable[[str], OrderRequest],
        position_amount: Decimal,
        now: datetime,
    ) -> StopReplaceOutcome:
        new = self.repo.insert_intent(
            self.client_id(record.cause, len(self.repo.by_cause(record.cause))), intent, now
        )
        try:
            result = await self.adapter.replace_stop(  # type: ignore[attr-defined]
                record.symbol,
                record.client_order_id,
                request_for(new.client_order_id),
                position_amount=position_amount,
            )
        except StopTriggered:
            self.repo.update(
                new.client_order_id,
                now,
                IntentStatus.CANCELED,
                error="not sent: the resting stop is executing",
            )
            return StopReplaceOutcome(record)
        except StopReplaceFailed as exc:
            if exc.protected is None:  # look both up before anything else
                self.repo.update(
                    new.client_order_id, now, IntentStatus.UNKNOWN, error=str(exc), sent=True
                )
                self.repo.update(record.client_order_id, now, IntentStatus.UNKNOWN)
                return StopReplaceOutcome(None, error=str(exc))
            self.repo.update(
                new.client_order_id, now, IntentStatus.REJECTED, error=str(exc), sent=True
            )
            if exc.protected:
                return StopReplaceOutcome(record, error=str(exc))
            self.repo.update(record.client_order_id, now, IntentStatus.CANCELED)
            return StopReplaceOutcome(None, unprotected=True, error=str(exc))
        except OrderOutcomeUnknown as exc:
            self.repo.update(
                new.client_order_id, now, IntentStatus.UNKNOWN, error=str(exc), sent=True
            )
            return StopReplaceOutcome(await self._resolve(record, now), error=str(exc))
        except ExchangeError as exc:  # refused before anything changed at the venue
            self.repo.update(
                new.client_order_id, now, IntentStatus.REJECTED, error=str(exc), sent=True
            )
            return StopReplaceOutcome(record, error=str(exc))
        unprotected_ms = (
            None
            if result.unprotected_for is None
            else int(result.unprotected_for.total_seconds() * 1000)
        )
        if result.order.client_order_id == record.client_order_id:  # amended in place
            self.repo.update(
                new.client_order_id,
                now,
                IntentStatus.CANCELED,
                error="not used: the venue amended the resting stop",
            )
            current = self.repo.amend(record.client_order_id, now, intent)
        else:
            self.repo.update(
                record.client_order_id,
                now,
                from_venue(result.previous.status),
                order=result.previous,
            )
            current = self.repo.update(
                new.client_order_id,
                now,
                from_venue(result.order.status),
                order=result.order,
                sent=True,
            )
        return StopReplaceOutcome(
            current, moved=True, method=result.method.value, unprotected_ms=unprotected_ms
        )

    async def refresh(self, record: OrderRecord, now: datetime) -> OrderRecord:
        """Ask the venue for the current state of one order and store it."""
        async with self.lock:
            return await self._resolve(record, now)

    async def cancel(self, record: OrderRecord, now: datetime) -> OrderRecord:
        async with self.lock:
            return await finish_then_cancel(self._cancel(record, now))

    async def _cancel(self, record: OrderRecord, now: datetime) -> OrderRecord:
        try:
            order = await self.adapter.cancel_order(record.symbol, record.client_order_id)
        except ExchangeError as exc:
            log.warning("cancel_failed", client_order_id=record.client_order_id, error=str(exc))
            return await self._resolve(record, now)
        return self.repo.update(record.client_order_id, now, from_venue(order.status), order=order)

    # --- reconciling -----------------------------------------------------------------------

    async def reconcile(self, now: datetime, symbols: list[str] | None = None) -> ReconcileReport:
        """Bring the store in line with the venue: active intents, then fills."""
        async with self.lock:
            report = await self._reconcile(now, symbols)
        if self.protect_positions is not None:
            stopped = {r.symbol for r in self.repo.active() if r.kind == STOP_KIND}
            bare = set(self.repo.fill_symbols()) - stopped
            if report.grown or bare:
                await self.protect_positions(sorted(report.grown | bare), now)
        return report

    async def _reconcile(self, now: datetime, symbols: list[str] | None) -> ReconcileReport:
        report = ReconcileReport()
        for record in self.repo.active():
            report.checked += 1
            before = record.status
            updated = await self._resolve(record, now)
            if updated.status is not before:
                report.repaired.append(f"{record.client_order_id}: {before} -> {updated.status}")
        wanted = sorted(set(symbols or []) | set(self.repo.symbols()))
        for symbol in wanted:
            try:
                new = await self.sync_fills(symbol, now)
            except ExchangeError as exc:
                report.errors.append(f"{symbol}: {exc}")
                log.warning("fill_sync_failed", symbol=symbol, error=str(exc))
                continue
            report.new_fills += len(new)
            if any(f.side is Side.BUY for f in new):
                report.grown.add(symbol)
        if report.repaired or report.new_fills:
            log.info(
                "reconciled",
                checked=report.checked,
                repaired=report.repaired,
                new_fills=report.new_fills,
            )
        return report

    async def sync_fills(self, symbol: str, now: datetime) -> list[Fill]:
        """Record the venue's fills of our orders on `symbol` that the store has not seen."""
        state = RuntimeState(self.store)
        cursor = state.fill_cursor(symbol)
        since = cursor - FILL_SYNC_OVERLAP if cursor else None
        fills = await self.adapter.fetch_my_trades(symbol, since)
        self._journal_skipped_rows(fills.skipped, now)
        if not fills:
            return []
        # The overlap re-reads the newest fills on every sync; the very trades this sync read
        # last time were all recorded (or found foreign) then, and moved the cursor then.
        seen = (since, tuple(f.trade_id for f in fills))
        if self._synced.get(symbol) == seen:
            return []
        ours = self.repo.client_ids(symbol)
        mine = [f for f in fills if f.client_order_id in ours]
        foreign = len(fills) - len(mine)
        if foreign:
            log.debug("foreign_fills_ignored", symbol=symbol, count=foreign)
        new = self.repo.record_fills(mine, now)
        if new:
            self._positions = {k: v for k, v in self._positions.items() if k[0] != symbol}
        for fill in new:
            record = self.repo.get(fill.client_order_id or "")
            if record is not None and record.kind == STOP_KIND:
                self.store.journal(
                    now,
                    "exchange_stop_filled",
                    f"the stop resting on the exchange sold {fill.amount} {symbol} at "
                    f"{fill.price} (trigger {record.trigger_price})",
                    level="warning",
                    symbol=symbol,
                    client_order_id=fill.client_order_id,
                )
            log.info(
                "fill_recorded",
                symbol=symbol,
                side=fill.side.value,
                amount=str(fill.amount),
                price=str(fill.price),
                client_order_id=fill.client_order_id,
            )
            self.store.journal(
                now,
                "fill",
                f"{fill.side} {fill.amount} {symbol} at {fill.price}",
                symbol=symbol,
                client_order_id=fill.client_order_id,
                trade_id=fill.trade_id,
            )
        if fills:
            latest = max(f.timestamp for f in fills)
            if cursor is None or latest > cursor:
                state.set_fill_cursor(symbol, latest, now)
        self._synced[symbol] = seen
        return new

    def _journal_skipped_rows(self, rows: tuple[MalformedRow, ...], now: datetime) -> None:
        """Journal (a warning, so the notifier alerts) each venue row the adapter could not
        read, once: the venue repeats it on every re-read of the overlap window. A skipped fill
        leaves the position rebuilt from fills short of it until the venue reports it whole."""
        if not rows:
            return
        seen = {
            _skipped_row_key(e.symbol, e.data)
            for e in self.store.recent_journal(SKIPPED_ROWS_REMEMBERED, kind=VENUE_ROW_SKIPPED)
        }
        for row in rows:
            data = {
                "row_kind": row.kind,
                "venue_id": row.raw_id,
                "venue_order_id": row.order_id,
                "reason": row.reason,
            }
            key = _skipped_row_key(row.symbol, data)
            if key in seen:
                continue
            seen.add(key)
            log.warning("venue_row_skipped", symbol=row.symbol, **data)
            self.store.journal(
                now,
                VENUE_ROW_SKIPPED,
                f"{row.kind} {row.raw_id or '(no id)'} from the venue skipped: {row.reason}; "
                "positions are managed without it until the venue reports it whole",
                level="warning",
                symbol=row.symbol,
                **data,
            )

    # --- positions -------------------------------------------------------------------------

    def position(self, symbol: str, dust: Decimal = Decimal(0)) -> Position:
        """The position rebuilt from the stored fills (cached until a new fill is recorded)."""
        key = (symbol, dust)
        cached = self._positions.get(key)
        if cached is None:
            replay = self._replays.get(key)
            if replay is None:
                replay = self._replays[key] = PositionReplay(symbol, dust)
            cached = replay.position(self.repo.position_fills(symbol))
            self._positions[key] = cached
        return cached

    def positions(self, dust_by_symbol: dict[str, Decimal] | None = None) -> dict[str, Position]:
        dust_by_symbol = dust_by_symbol or {}
        return {
            symbol: self.position(symbol, dust_by_symbol.get(symbol, Decimal(0)))
            for symbol in self.repo.fill_symbols()
        }
