"""The stop-order half of `CcxtExchange`: create, look up, cancel, list and replace protective
stop-limits, driven by the venue's `StopSpec` (exchanges/venues.py). Semantics: `exchanges.stops`.

Kept apart from `exchanges.ccxt.adapter` for size; it works through the adapter's plumbing
(`_call`, `_read`, `_place`, `_prepare`) so error translation and retries stay in one place.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from exchanges.base import Market, Order, OrderRequest, OrderType, Side, Ticker, format_decimal
from exchanges.ccxt.errors import Action
from exchanges.ccxt.parse import to_order
from exchanges.errors import (
    ExchangeError,
    OrderNotFound,
    StopReplaceFailed,
    StopWouldTrigger,
)
from exchanges.stops import (
    ReplaceMethod,
    StopReplacement,
    check_replaceable,
    replace_in_sequence,
    stop_reached,
)
from exchanges.venues import StopSpec

if TYPE_CHECKING:
    from exchanges.ccxt.adapter import CcxtExchange

log = structlog.get_logger(__name__)

RawOrder = dict[str, Any]


def last_reached(side: Side, trigger: Decimal, ticker: Ticker) -> bool:
    """Real venues trigger on their last price: refuse a stop the last trade already reached."""
    if ticker.last is None:
        return False
    return ticker.last <= trigger if side is Side.SELL else ticker.last >= trigger


class CcxtStops:
    """Stop orders of one `CcxtExchange` (whose venue has a `StopSpec`)."""

    def __init__(self, adapter: CcxtExchange) -> None:
        self._ex = adapter

    @property
    def spec(self) -> StopSpec:
        spec = self._ex.venue.stops
        assert spec is not None, "only venues with a StopSpec rest stops"
        return spec

    @property
    def separate(self) -> bool:
        """Plain order queries do not show this venue's stops."""
        stops = self._ex.venue.stops
        return stops is not None and stops.separate_listing

    # ---- create ----------------------------------------------------------------------------

    async def refuse_if_reached(
        self, market: Market, side: Side, trigger: Decimal, cid: str
    ) -> None:
        ticker = await self._ex.fetch_ticker(market.symbol)
        if stop_reached(side, trigger, ticker.bid, ticker.ask) or last_reached(
            side, trigger, ticker
        ):
            raise StopWouldTrigger(
                f"stop {side.value} {market.symbol} at {format_decimal(trigger)} would trigger "
                f"immediately (bid {ticker.bid}, ask {ticker.ask}, last {ticker.last})",
                client_order_id=cid,
            )

    async def create(self, sent: OrderRequest, market: Market) -> Order:
        """Place a rounded, checked STOP_LIMIT (no further reads: replace relies on it)."""
        spec = self.spec
        assert sent.trigger_price is not None
        cid = sent.client_order_id
        # The venue's own id param too (okx: clOrdId), or ccxt fills it with a random broker id
        # that a triggered stop's fills could end up carrying.
        params: dict[str, Any] = {
            self._ex.venue.client_id_param: cid,
            spec.trigger_param: format_decimal(sent.trigger_price),
        }
        if spec.client_id_param:
            params[spec.client_id_param] = cid
        return await self._ex._place(sent, market, "limit", params)

    # ---- lookup, cancel, list --------------------------------------------------------------

    def stop_params(self) -> dict[str, Any]:
        return dict(self.spec.stop_params)

    def client_id_of(self, raw: RawOrder) -> str | None:
        """Our client id on a raw order: ccxt's clientOrderId, else the venue's stop field."""
        if raw.get("clientOrderId"):
            return str(raw["clientOrderId"])
        stops = self._ex.venue.stops
        if stops is not None and stops.client_id_field:
            value = (raw.get("info") or {}).get(stops.client_id_field)
            return str(value) if value else None
        return None

    async def cancel(self, symbol: str, cid: str) -> RawOrder:
        """Cancel a stop through the venue's stop endpoints (after a plain cancel missed it);
        a triggered stop whose working part is a separate order has that order canceled."""
        params = {self._ex.venue.lookup_param: cid, **self.stop_params()}
        client = self._ex.client
        try:
            return await self._ex._call(  # type: ignore[no-any-return]
                Action.CANCEL, lambda: client.cancel_order(None, symbol, params), cid
            )
        except OrderNotFound:
            if not self.spec.child_order_field:
                raise
        raw = await self._ex._lookup(symbol, cid)
        child = None if raw is None else self.child_id(raw)
        if child is None:
            raise OrderNotFound(f"no open stop {cid} on {symbol}", client_order_id=cid)
        return await self._ex._call(  # type: ignore[no-any-return]
            Action.CANCEL, lambda: client.cancel_order(child, symbol), cid
        )

    def child_id(self, raw: RawOrder) -> str | None:
        field = self.spec.child_order_field
        value = (raw.get("info") or {}).get(field) if field else None
        return str(value) if value else None

    async def child_order(self, raw: RawOrder, cid: str, market: Market) -> Order | None:
        """A triggered stop's working order (okx): its state, named as the stop."""
        child = self.child_id(raw)
        if child is None:
            return None
        client = self._ex.client
        found = await self._ex._read(
            "fetch_order", lambda: client.fetch_order(child, market.symbol)
        )
        order = to_order(found, client_order_id=cid, market=market, now=self._ex._clock())
        trigger = to_order(raw, client_order_id=cid, market=market, now=self._ex._clock())
        return replace(
            order,
            type=OrderType.STOP_LIMIT,
            trigger_price=trigger.trigger_price,
            triggered=True,
            created_at=trigger.created_at,
        )

    async def open_rows(self, symbol: str | None) -> list[RawOrder]:
        params = self.stop_params()
        client = self._ex.client
        rows = await self._ex._read(
            "fetch_open_orders", lambda: client.fetch_open_orders(symbol, None, None, params)
        )
        return list(rows)

    # ---- replace ---------------------------------------------------------------------------

    async def replace(
        self,
        symbol: str,
        old_cid: str,
        new: OrderRequest,
        position_amount: Decimal | None,
    ) -> StopReplacement:
        ex = self._ex
        old = check_replaceable(await ex.fetch_order(symbol, old_cid), symbol, old_cid, new)
        market, sent = await ex._prepare(new)
        method = self.spec.replace
        if method is ReplaceMethod.AMEND:
            return await self._amend(old, sent, market)
        if method is ReplaceMethod.CANCEL_REPLACE:
            return await self._cancel_replace(old, sent, market)

        def min_amount_reason(amount: Decimal) -> str | None:
            return market.check(amount, sent.price)

        return await replace_in_sequence(
            old,
            sent,
            place=lambda req: self.create(req, market),
            cancel=lambda cid: ex.cancel_order(symbol, cid),
            position_amount=position_amount,
            clock=ex._clock,
            min_amount_reason=min_amount_reason,
        )

    async def _edit(self, old: Order, sent: OrderRequest, cid: str) -> RawOrder:
        spec = self.spec
        assert sent.trigger_price is not None and sent.price is not None
        params: dict[str, Any] = {spec.edit_trigger_param: format_decimal(sent.trigger_price)}
        order_id = old.exchange_order_id
        if spec.edit_old_id_param is not None:
            params[spec.edit_old_id_param] = old.client_order_id
            params[self._ex.venue.client_id_param] = sent.client_order_id
            order_id = None
        client = self._ex.client
        log.info(
            "ccxt_stop_replacing",
            venue=self._ex.name,
            method=str(spec.replace),
            old_client_order_id=old.client_order_id,
            client_order_id=cid,
            trigger_price=str(sent.trigger_price),
            price=str(sent.price),
            amount=str(sent.amount),
        )
        return await self._ex._call(  # type: ignore[no-any-return]
            Action.PLACE,
            lambda: client.edit_order(
                order_id,
                sent.symbol,
                spec.edit_type,
                str(sent.side),
                float(sent.amount),
                float(sent.price),  # type: ignore[arg-type]
                params,
            ),
            cid,
        )

    async def _amend(self, old: Order, sent: OrderRequest, market: Market) -> StopReplacement:
        """The stop changes in place and keeps its client id; a refused amend leaves it as it
        was, so the position stays protected whatever happens."""
        cid = old.client_order_id
        try:
            await self._edit(old, sent, cid)
        except ExchangeError as exc:
            current = await self._lookup_quietly(market.symbol, cid)
            if current is not None and current.trigger_price == sent.trigger_price:
                return StopReplacement(current, old, ReplaceMethod.AMEND)  # the reply was lost
            raise StopReplaceFailed(
                f"amend of stop {cid} failed: {exc.reason}",
                protected=None if current is None else current.is_open,
                old_client_order_id=cid,
                new_client_order_id=cid,
            ) from exc
        amended = await self._lookup_quietly(market.symbol, cid)
        if amended is None:
            raise StopReplaceFailed(
                f"stop {cid} amended but not found afterwards",
                protected=None,
                old_client_order_id=cid,
                new_client_order_id=cid,
            )
        return StopReplacement(amended, old, ReplaceMethod.AMEND)

    async def _cancel_replace(
        self, old: Order, sent: OrderRequest, market: Market
    ) -> StopReplacement:
        """One request: the venue cancels the old stop, then places the new one. On any error
        both ids are looked up to tell what is resting."""
        old_cid, new_cid = old.client_order_id, sent.client_order_id
        try:
            raw = await self._edit(old, sent, new_cid)
        except ExchangeError as exc:
            placed = await self._lookup_quietly(market.symbol, new_cid)
            previous = await self._lookup_quietly(market.symbol, old_cid)
            if placed is not None and placed.is_open:
                return StopReplacement(
                    placed, previous or old, ReplaceMethod.CANCEL_REPLACE
                )  # the reply was lost
            lookups_failed = placed is None and previous is None
            raise StopReplaceFailed(
                f"cancel-replace of stop {old_cid} by {new_cid} failed: {exc.reason}",
                protected=None if lookups_failed else bool(previous and previous.is_open),
                old_client_order_id=old_cid,
                new_client_order_id=new_cid,
            ) from exc
        order = to_order(
            raw,
            client_order_id=new_cid,
            market=market,
            now=self._ex._clock(),
            request=sent,
            untriggered=self.spec.untriggered,
        )
        self._ex._remember(order)
        previous = await self._lookup_quietly(market.symbol, old_cid)
        return StopReplacement(order, previous or old, ReplaceMethod.CANCEL_REPLACE)

    async def _lookup_quietly(self, symbol: str, cid: str) -> Order | None:
        """The order, or None when it is unknown or the lookup itself failed."""
        try:
            return await self._ex.fetch_order(symbol, cid)
        except ExchangeError as exc:
            log.warning("ccxt_stop_lookup_failed", client_order_id=cid, reason=exc.reason)
            return None
