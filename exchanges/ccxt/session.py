"""`CcxtSession`: what `CcxtExchange` and its stop half `CcxtStops` share about one venue
account - the ccxt client, the venue's `VenueSpec`, the clock, the markets cache, the client ids
learnt from replies - and the plumbing every request goes through.

`call` sends one request and translates its failure (`exchanges.ccxt.errors`), honouring a
venue's Retry-After across calls; `read` adds the retries of `exchanges.retry`. `prepare` rounds
and checks an order before sending and `place` sends it, so a plain order and a stop are
validated, logged and parsed the same way. The error policy itself is described in
`exchanges.ccxt.adapter`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]  # ccxt ships no stubs
import structlog
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]  # ccxt ships no stubs

from exchanges.base import Market, Order, OrderRequest, Side, Ticker, format_decimal
from exchanges.ccxt.errors import Action, translate
from exchanges.ccxt.parse import Markers, to_market, to_order, to_ticker
from exchanges.errors import (
    ExchangeError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    StopWouldTrigger,
)
from exchanges.retry import RetryPolicy, Sleep, retry_read
from exchanges.stops import check_stop_request, stop_reached
from exchanges.venues import ClientIdLookup, VenueSpec

log = structlog.get_logger(__name__)

T = TypeVar("T")
RawOrder = dict[str, Any]
"""An order as ccxt returns it (its unified dict)."""


def last_reached(side: Side, trigger: Decimal, ticker: Ticker) -> bool:
    """Real venues trigger on their last price: refuse a stop the last trade already reached."""
    if ticker.last is None:
        return False
    return ticker.last <= trigger if side is Side.SELL else ticker.last >= trigger


class CcxtSession:
    """One venue account through one ccxt client (already built and hooked by the caller).

    `name` labels logs and errors ("ccxt:binance:testnet"); `markets_max_age` bounds how long
    loaded markets are reused before a refresh; `retry_policy` and `sleep` drive `read`.
    """

    def __init__(
        self,
        venue: VenueSpec,
        client: ccxt_async.Exchange,
        *,
        name: str,
        clock: Callable[[], datetime],
        markets_max_age: timedelta,
        retry_policy: RetryPolicy,
        sleep: Sleep,
    ) -> None:
        self.venue = venue
        self.client = client
        self.name = name
        self.clock = clock
        self._policy = retry_policy
        self._sleep = sleep
        self._quiet_until = 0.0  # time.monotonic() before which no request is sent
        self._markets_max_age = markets_max_age
        self._markets: dict[str, Market] = {}
        self._markets_loaded_at: datetime | None = None
        self._markets_lock = asyncio.Lock()
        self._client_ids_by_order: dict[str, str] = {}

    @property
    def untriggered(self) -> Markers:
        """The raw fields marking a stop that has not triggered (none without a `StopSpec`)."""
        return () if self.venue.stops is None else self.venue.stops.untriggered

    # ---- requests --------------------------------------------------------------------------

    async def call(
        self, action: Action, operation: Callable[[], Awaitable[T]], cid: str | None = None
    ) -> T:
        """One request, not retried; any failure raised as an `exchanges.errors` type."""
        # Honour a venue's Retry-After across calls: hammering a venue that asked for quiet
        # (418 ban, maintenance) gets the key banned for longer. Wall time, not the clock.
        wait = self._quiet_until - time.monotonic()
        if wait > 0:
            raise RateLimited(
                f"{self.name}: the venue asked for quiet, {wait:.1f} s left",
                retry_after=wait,
                client_order_id=cid,
            )
        try:
            return await operation()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, ccxt_errors.InvalidNonce):
                await self._resync_clock()
            error = translate(exc, action, self.venue, cid)
            retry_after = getattr(error, "retry_after", None)
            if retry_after:
                self._quiet_until = max(self._quiet_until, time.monotonic() + retry_after)
            if error is exc:
                raise
            raise error from exc

    async def read(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """A read, retried on `RetryableError` per the retry policy."""
        return await retry_read(
            lambda: self.call(Action.READ, operation),
            policy=self._policy,
            sleep=self._wait_out,
            what=f"{self.name} {what}",
        )

    async def _wait_out(self, delay: float) -> None:
        """The retry's own wait honours Retry-After (it is at least that long): it serves the
        quiet period."""
        await self._sleep(delay)
        self._quiet_until = 0.0

    async def _resync_clock(self) -> None:
        try:
            await self.client.load_time_difference()
        except Exception as exc:  # best effort: the retry reports the real failure
            log.warning("ccxt_clock_resync_failed", venue=self.name, error=repr(exc))

    # ---- markets ---------------------------------------------------------------------------

    async def markets(self, reload: bool = False) -> dict[str, Market]:
        """The cached spot markets by symbol, loaded again when older than `markets_max_age`
        (or on `reload`). The cache itself: callers must not change it."""
        async with self._markets_lock:
            loaded_at = self._markets_loaded_at
            fresh = loaded_at is not None and self.clock() - loaded_at < self._markets_max_age
            if reload or not fresh:
                try:
                    raw = await self.read(
                        "load_markets", lambda: self.client.load_markets(reload=True)
                    )
                except ExchangeError as exc:
                    if reload or not self._markets:
                        raise
                    # A failed periodic refresh must not stop trading on known rules.
                    log.warning("ccxt_markets_refresh_failed", venue=self.name, reason=exc.reason)
                    return self._markets
                mode = self.client.precisionMode
                markets = {}
                for symbol, info in raw.items():
                    if info.get("spot", True):
                        market = to_market(info, mode)
                        if market is not None:
                            markets[symbol] = market
                self._markets = markets
                self._markets_loaded_at = self.clock()
                log.info("ccxt_markets_loaded", venue=self.name, count=len(markets))
            return self._markets

    async def market(self, symbol: str) -> Market:
        market = (await self.markets()).get(symbol)
        if market is None:
            raise OrderRejected(f"{symbol} is not a spot market on {self.venue.exchange_id}")
        return market

    async def ticker(self, symbol: str) -> Ticker:
        await self.market(symbol)
        raw = await self.read("fetch_ticker", lambda: self.client.fetch_ticker(symbol))
        return to_ticker(raw, symbol, self.clock())

    # ---- placing ---------------------------------------------------------------------------

    async def prepare(self, req: OrderRequest) -> tuple[Market, OrderRequest]:
        """Validate the client id, round amount and prices, check the venue's limits (and that
        a stop's trigger is not reached yet); the request as it will be sent."""
        cid = req.client_order_id
        market = await self.market(req.symbol)
        rules = self.venue.client_ids
        if not cid or not rules.is_valid(cid):
            raise OrderRejected(
                f"client order id {cid!r} is not valid on {self.venue.exchange_id} "
                f"(1-{rules.max_length} of [{rules.charset}])",
                client_order_id=cid,
            )
        amount = market.round_amount(req.amount)
        price: Decimal | None = None
        trigger: Decimal | None = None
        if req.type.is_stop:
            if self.venue.stops is None:
                raise OrderRejected(
                    f"{self.venue.exchange_id} has no stop orders through this adapter",
                    client_order_id=cid,
                )
            check_stop_request(req)
            assert req.trigger_price is not None
            trigger = market.round_price(req.trigger_price)
        reference: Decimal | None
        if req.type.has_limit_price:
            if req.price is None:
                raise OrderRejected(f"limit order {cid} without a price", client_order_id=cid)
            price = market.round_price(req.price)
            reference = price
        else:
            reference = await self._reference_price(market, req.side)
        reason = market.check(amount, reference)
        if reason is not None:
            raise OrderRejected(reason, client_order_id=cid)
        if trigger is not None:
            await self._refuse_if_reached(market, req.side, trigger, cid)
        return market, replace(req, amount=amount, price=price, trigger_price=trigger)

    async def _reference_price(self, market: Market, side: Side) -> Decimal | None:
        ticker = await self.ticker(market.symbol)
        best = ticker.ask if side is Side.BUY else ticker.bid
        return best if best is not None else ticker.last

    async def _refuse_if_reached(
        self, market: Market, side: Side, trigger: Decimal, cid: str
    ) -> None:
        ticker = await self.ticker(market.symbol)
        if stop_reached(side, trigger, ticker.bid, ticker.ask) or last_reached(
            side, trigger, ticker
        ):
            raise StopWouldTrigger(
                f"stop {side.value} {market.symbol} at {format_decimal(trigger)} would trigger "
                f"immediately (bid {ticker.bid}, ask {ticker.ask}, last {ticker.last})",
                client_order_id=cid,
            )

    async def place(
        self, sent: OrderRequest, market: Market, ccxt_type: str, params: dict[str, Any]
    ) -> Order:
        """Send a prepared request once (never retried: see `Action.PLACE`) and parse the
        venue's acknowledgement."""
        cid, price = sent.client_order_id, sent.price
        log.info(
            "ccxt_order_sending",
            venue=self.name,
            client_order_id=cid,
            symbol=sent.symbol,
            side=str(sent.side),
            type=str(sent.type),
            amount=str(sent.amount),
            price=None if price is None else str(price),
            trigger_price=None if sent.trigger_price is None else str(sent.trigger_price),
        )
        try:
            raw = await self.call(
                Action.PLACE,
                lambda: self.client.create_order(
                    sent.symbol,
                    ccxt_type,
                    str(sent.side),
                    float(sent.amount),
                    None if price is None else float(price),
                    params,
                ),
                cid,
            )
        except ExchangeError as exc:
            log.warning(
                "ccxt_order_failed",
                venue=self.name,
                client_order_id=cid,
                error=type(exc).__name__,
                reason=exc.reason,
            )
            raise
        order = to_order(
            raw,
            client_order_id=cid,
            market=market,
            now=self.clock(),
            request=sent,
            untriggered=self.untriggered,
        )
        self.remember(order)
        log.info(
            "ccxt_order_acked",
            venue=self.name,
            client_order_id=cid,
            exchange_order_id=order.exchange_order_id,
            status=str(order.status),
            filled=str(order.filled),
        )
        return order

    # ---- client ids ------------------------------------------------------------------------

    def remember(self, order: Order) -> None:
        """Note the order's client id under its exchange id (trades name only the latter)."""
        if order.exchange_order_id is not None:
            self._client_ids_by_order[order.exchange_order_id] = order.client_order_id

    def remember_client_id(self, exchange_order_id: str, client_order_id: str) -> None:
        self._client_ids_by_order[exchange_order_id] = client_order_id

    def known_client_id(self, exchange_order_id: str) -> str | None:
        return self._client_ids_by_order.get(exchange_order_id)

    def client_id_of(self, raw: RawOrder) -> str | None:
        """Our client id on a raw order: ccxt's clientOrderId, else the venue's stop field."""
        if raw.get("clientOrderId"):
            return str(raw["clientOrderId"])
        stops = self.venue.stops
        if stops is not None and stops.client_id_field:
            value = (raw.get("info") or {}).get(stops.client_id_field)
            return str(value) if value else None
        return None

    async def search(self, symbol: str, cid: str, extra: dict[str, Any]) -> RawOrder | None:
        """The raw order with this client id among those a query with `extra` params shows,
        found the venue's way (`ClientIdLookup`); None when there is none."""
        params = {self.venue.lookup_param: cid, **extra}
        if self.venue.lookup is ClientIdLookup.FETCH_ORDER_PARAM:
            try:
                found: RawOrder = await self.read(
                    "fetch_order", lambda: self.client.fetch_order(None, symbol, params)
                )
            except OrderNotFound:
                return None
            return found
        for what, method in (
            ("fetch_open_orders", self.client.fetch_open_orders),
            ("fetch_closed_orders", self.client.fetch_canceled_and_closed_orders),
        ):
            rows: list[RawOrder] = await self.read(
                what, functools.partial(method, symbol, None, None, params)
            )
            matches = [r for r in rows if self.client_id_of(r) == cid]
            if matches:
                return matches[-1]
        return None
