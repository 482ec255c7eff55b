"""The stop-order half of `CcxtExchange`: create, look up, cancel, list and replace protective
stop-limits, driven by the venue's `StopSpec` (exchanges/venues.py). Semantics: `exchanges.stops`.

Kept apart from `exchanges.ccxt.adapter` for size. It works through the `CcxtSession` it shares
with the adapter (`call`, `read`, `prepare`, `place`), so error translation, retries and order
checks stay in one place, and through the adapter's public `fetch_order` and `cancel_order`
(`OrderCalls`) for the steps of a replacement.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

import structlog

from exchanges.base import Market, Order, OrderRequest, OrderType, format_decimal
from exchanges.ccxt.errors import Action
from exchanges.ccxt.parse import to_order
from exchanges.ccxt.session import CcxtSession, RawOrder
from exchanges.errors import ExchangeError, OrderNotFound, StopReplaceFailed
from exchanges.stops import (
    ReplaceMethod,
    StopReplacement,
    check_replaceable,
    replace_in_sequence,
)
from exchanges.venues import StopSpec

log = structlog.get_logger(__name__)


class OrderCalls(Protocol):
    """The adapter's public order calls a stop replacement goes through (`CcxtExchange`)."""

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order: ...


class CcxtStops:
    """Stop orders of one venue account; all but `lookup` and `separate` need the venue's
    `StopSpec`."""

    def __init__(self, session: CcxtSession, orders: OrderCalls) -> None:
        self._session = session
        self._orders = orders

    @property
    def spec(self) -> StopSpec:
        spec = self._session.venue.stops
        assert spec is not None, "only venues with a StopSpec rest stops"
        return spec

    @property
    def separate(self) -> bool:
        """Plain order queries do not show this venue's stops."""
        stops = self._session.venue.stops
        return stops is not None and stops.separate_listing

    # ---- create ----------------------------------------------------------------------------

    async def create(self, sent: OrderRequest, market: Market) -> Order:
        """Place a rounded, checked STOP_LIMIT (no further reads: replace relies on it)."""
        spec = self.spec
        assert sent.trigger_price is not None
        cid = sent.client_order_id
        # The venue's own id param too (okx: clOrdId), or ccxt fills it with a random broker id
        # that a triggered stop's fills could end up carrying.
        params: dict[str, Any] = {
            self._session.venue.client_id_param: cid,
            spec.trigger_param: format_decimal(sent.trigger_price),
        }
        if spec.client_id_param:
            params[spec.client_id_param] = cid
        return await self._session.place(sent, market, "limit", params)

    # ---- lookup, cancel, list --------------------------------------------------------------

    def stop_params(self) -> dict[str, Any]:
        return dict(self.spec.stop_params)

    async def lookup(self, symbol: str, cid: str) -> RawOrder | None:
        """The raw order with this client id: plain orders first, then the venue's stops
        (where plain queries do not show them)."""
        raw = await self._session.search(symbol, cid, {})
        if raw is None and self.separate:
            raw = await self._session.search(symbol, cid, self.stop_params())
        return raw

    async def cancel(self, symbol: str, cid: str) -> RawOrder:
        """Cancel a stop through the venue's stop endpoints (after a plain cancel missed it);
        a triggered stop whose working part is a separate order has that order canceled."""
        session = self._session
        params = {session.venue.lookup_param: cid, **self.stop_params()}
        client = session.client
        try:
            canceled: RawOrder = await session.call(
                Action.CANCEL, lambda: client.cancel_order(None, symbol, params), cid
            )
            return canceled
        except OrderNotFound:
            if not self.spec.child_order_field:
                raise
        raw = await self.lookup(symbol, cid)
        child = None if raw is None else self.child_id(raw)
        if child is None:
            raise OrderNotFound(f"no open stop {cid} on {symbol}", client_order_id=cid)
        canceled = await session.call(
            Action.CANCEL, lambda: client.cancel_order(child, symbol), cid
        )
        return canceled

    def child_id(self, raw: RawOrder) -> str | None:
        field = self.spec.child_order_field
        value = (raw.get("info") or {}).get(field) if field else None
        return str(value) if value else None

    async def child_order(self, raw: RawOrder, cid: str, market: Market) -> Order | None:
        """A triggered stop's working order (okx): its state, named as the stop."""
        child = self.child_id(raw)
        if child is None:
            return None
        session = self._session
        client = session.client
        found = await session.read("fetch_order", lambda: client.fetch_order(child, market.symbol))
        order = to_order(found, client_order_id=cid, market=market, now=session.clock())
        trigger = to_order(raw, client_order_id=cid, market=market, now=session.clock())
        return replace(
            order,
            type=OrderType.STOP_LIMIT,
            trigger_price=trigger.trigger_price,
            triggered=True,
            created_at=trigger.created_at,
        )

    async def open_rows(self, symbol: str | None) -> list[RawOrder]:
        params = self.stop_params()
        client = self._session.client
        rows = await self._session.read(
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
        orders = self._orders
        old = check_replaceable(await orders.fetch_order(symbol, old_cid), symbol, old_cid, new)
        market, sent = await self._session.prepare(new)
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
            cancel=lambda cid: orders.cancel_order(symbol, cid),
            position_amount=position_amount,
            clock=self._session.clock,
            min_amount_reason=min_amount_reason,
        )

    async def _edit(self, old: Order, sent: OrderRequest, cid: str) -> RawOrder:
        spec = self.spec
        session = self._session
        trigger, price = sent.trigger_price, sent.price
        assert trigger is not None and price is not None
        params: dict[str, Any] = {spec.edit_trigger_param: format_decimal(trigger)}
        order_id = old.exchange_order_id
        if spec.edit_old_id_param is not None:
            params[spec.edit_old_id_param] = old.client_order_id
            params[session.venue.client_id_param] = sent.client_order_id
            order_id = None
        client = session.client
        log.info(
            "ccxt_stop_replacing",
            venue=session.name,
            method=str(spec.replace),
            old_client_order_id=old.client_order_id,
            client_order_id=cid,
            trigger_price=str(trigger),
            price=str(price),
            amount=str(sent.amount),
        )
        edited: RawOrder = await session.call(
            Action.PLACE,
            lambda: client.edit_order(
                order_id,
                sent.symbol,
                spec.edit_type,
                str(sent.side),
                float(sent.amount),
                float(price),
                params,
            ),
            cid,
        )
        return edited

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
            now=self._session.clock(),
            request=sent,
            untriggered=self.spec.untriggered,
        )
        self._session.remember(order)
        previous = await self._lookup_quietly(market.symbol, old_cid)
        return StopReplacement(order, previous or old, ReplaceMethod.CANCEL_REPLACE)

    async def _lookup_quietly(self, symbol: str, cid: str) -> Order | None:
        """The order, or None when it is unknown or the lookup itself failed."""
        try:
            return await self._orders.fetch_order(symbol, cid)
        except ExchangeError as exc:
            log.warning("ccxt_stop_lookup_failed", client_order_id=cid, reason=exc.reason)
            return None
