"""`CcxtExchange`: the `ExchangeAdapter` for real venues (testnet or live) through ccxt.

Error policy (each rule has a test in tests/integration/test_ccxt_faults.py or
tests/unit/exchanges/test_ccxt_errors.py):

- Every ccxt or transport exception is translated once, here, by `exchanges.ccxt.errors`;
  callers only ever see `exchanges.errors` types.
- Reads (markets, ticker, book, balances, fetch_order, open orders, trades) retry
  `RetryableError` - timeouts, dropped connections, 5xx, garbled bodies, 429/418 - with capped
  exponential backoff (`RetryPolicy`), waiting at least the venue's Retry-After; a Retry-After
  longer than the policy's `max_delay` goes back to the caller at once. A clock outside the
  venue's recvWindow resynchronises ccxt's time difference before the retry.
- `create_order` is never retried here (and ccxt's own `maxRetriesOnFailure` is pinned to 0).
  A timeout, dropped connection, 5xx or garbled reply after sending raises
  `OrderOutcomeUnknown`: the caller must `fetch_order(symbol, client_order_id)` before any
  resend. A 429/418 raises `RateLimited` (the venue refused before processing).
- `cancel_order` is not retried here either: a `RetryableError` goes back to the caller, who
  may simply cancel again (a second cancel of a gone order is `OrderNotFound`).
- `OrderRejected` (limits, precision, unknown symbol), `InsufficientFunds`,
  `DuplicateClientOrderId`, `AuthenticationFailed` are never retried.
- Amounts are truncated to the lot step and prices rounded to the tick (the market's
  precision), then min amount / min notional are checked before anything is sent; a market
  order's notional is checked at the current best ask (buy) or bid (sell).

Venue differences (client id field and charset, lookup by client id, testnet method, password,
how stops are sent, found, canceled and replaced) come from `exchanges.venues`; nothing here
branches on an exchange id. Stop orders (STOP_LIMIT, `replace_stop`) live in
`exchanges.ccxt.stops`; their contract is in `exchanges.stops`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

import ccxt.async_support as ccxt_async
import structlog
from ccxt.base import errors as ccxt_errors

from exchanges.base import (
    Balance,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    Side,
    Ticker,
)
from exchanges.ccxt.client import build_client
from exchanges.ccxt.errors import Action, install_response_hooks, translate
from exchanges.ccxt.parse import (
    Markers,
    dec,
    fees_in_quote,
    order_fees,
    to_balances,
    to_fill,
    to_market,
    to_order,
    to_order_book,
    to_ticker,
)
from exchanges.ccxt.stops import CcxtStops
from exchanges.errors import (
    ExchangeConfigError,
    ExchangeError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from exchanges.retry import RetryPolicy, Sleep, retry_read
from exchanges.stops import StopReplacement, VenueCapabilities, check_stop_request
from exchanges.venues import ClientIdLookup, VenueSpec, venue_spec

log = structlog.get_logger(__name__)

T = TypeVar("T")
Mode = Literal["testnet", "live"]
RawOrder = dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


class CcxtExchange:
    """One venue account through ccxt.async_support.

    Credentials are plain strings (unwrap SecretStr first); without an API key only public
    calls work (private ones raise AuthenticationFailed).

    `rest_url` (e.g. a proxy or the test emulator, "http://127.0.0.1:8765") replaces the scheme
    and host of every ccxt API URL, keeping each path. `timeout` is seconds per HTTP request.
    `markets_max_age` bounds how long loaded markets are reused before a refresh. `client`
    injects a prebuilt ccxt instance (tests); it then gets only the response hooks.
    """

    def __init__(
        self,
        exchange_id: str,
        mode: Mode,
        api_key: str | None = None,
        secret: str | None = None,
        password: str | None = None,
        *,
        rest_url: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
        markets_max_age: timedelta = timedelta(hours=1),
        retry_policy: RetryPolicy | None = None,
        enable_rate_limit: bool = True,
        sleep: Sleep = asyncio.sleep,
        client: ccxt_async.Exchange | None = None,
        venue: VenueSpec | None = None,
    ) -> None:
        if mode not in ("testnet", "live"):
            raise ExchangeConfigError(f"mode must be 'testnet' or 'live', not {mode!r}")
        self.venue = venue or venue_spec(exchange_id)
        self.mode = mode
        self.name = f"ccxt:{exchange_id}:{mode}"
        self._clock = clock
        self._quiet_until = 0.0  # time.monotonic() before which no request is sent
        self._sleep = sleep
        self._policy = retry_policy or RetryPolicy()
        self._markets_max_age = markets_max_age
        self._client = client or build_client(
            self.venue,
            mode,
            api_key=api_key or "",
            secret=secret or "",
            password=password,
            rest_url=rest_url,
            timeout=timeout,
            enable_rate_limit=enable_rate_limit,
        )
        install_response_hooks(self._client, clock)
        self._markets: dict[str, Market] = {}
        self._markets_loaded_at: datetime | None = None
        self._markets_lock = asyncio.Lock()
        self._client_ids_by_order: dict[str, str] = {}
        self._stops = CcxtStops(self)

    @property
    def client(self) -> ccxt_async.Exchange:
        """The underlying ccxt instance (for diagnostics; trading goes through the adapter)."""
        return self._client

    @property
    def capabilities(self) -> VenueCapabilities:
        """What this venue does with stop orders (`exchanges.venues` data)."""
        return self.venue.capabilities

    @property
    def _untriggered(self) -> Markers:
        return () if self.venue.stops is None else self.venue.stops.untriggered

    async def replace_stop(
        self,
        symbol: str,
        old_client_order_id: str,
        new_request: OrderRequest,
        *,
        position_amount: Decimal | None = None,
    ) -> StopReplacement:
        """Move a resting stop; semantics in `exchanges.stops`."""
        if self.venue.stops is None:
            raise OrderRejected(
                f"{self.venue.exchange_id} has no stop orders through this adapter",
                client_order_id=new_request.client_order_id,
            )
        return await self._stops.replace(symbol, old_client_order_id, new_request, position_amount)

    # ---- plumbing --------------------------------------------------------------------------

    async def _call(
        self, action: Action, operation: Callable[[], Awaitable[T]], cid: str | None = None
    ) -> T:
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

    async def _read(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        return await retry_read(
            lambda: self._call(Action.READ, operation),
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
            await self._client.load_time_difference()
        except Exception as exc:  # best effort: the retry reports the real failure
            log.warning("ccxt_clock_resync_failed", venue=self.name, error=repr(exc))

    # ---- markets ---------------------------------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        """Spot markets by unified symbol ("BTC/USDT"); cached for `markets_max_age`."""
        return dict(await self._current_markets(reload))

    async def _current_markets(self, reload: bool = False) -> dict[str, Market]:
        async with self._markets_lock:
            loaded_at = self._markets_loaded_at
            fresh = loaded_at is not None and self._clock() - loaded_at < self._markets_max_age
            if reload or not fresh:
                try:
                    raw = await self._read(
                        "load_markets", lambda: self._client.load_markets(reload=True)
                    )
                except ExchangeError as exc:
                    if reload or not self._markets:
                        raise
                    # A failed periodic refresh must not stop trading on known rules.
                    log.warning("ccxt_markets_refresh_failed", venue=self.name, reason=exc.reason)
                    return self._markets
                mode = self._client.precisionMode
                markets = {}
                for symbol, info in raw.items():
                    if info.get("spot", True):
                        market = to_market(info, mode)
                        if market is not None:
                            markets[symbol] = market
                self._markets = markets
                self._markets_loaded_at = self._clock()
                log.info("ccxt_markets_loaded", venue=self.name, count=len(markets))
            return self._markets

    async def _market(self, symbol: str) -> Market:
        market = (await self._current_markets()).get(symbol)
        if market is None:
            raise OrderRejected(f"{symbol} is not a spot market on {self.venue.exchange_id}")
        return market

    # ---- market data -----------------------------------------------------------------------

    async def fetch_ticker(self, symbol: str) -> Ticker:
        await self._market(symbol)
        raw = await self._read("fetch_ticker", lambda: self._client.fetch_ticker(symbol))
        return to_ticker(raw, symbol, self._clock())

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        await self._market(symbol)
        raw = await self._read(
            "fetch_order_book", lambda: self._client.fetch_order_book(symbol, limit)
        )
        return to_order_book(raw, symbol, self._clock())

    async def fetch_balances(self) -> dict[str, Balance]:
        raw = await self._read("fetch_balance", lambda: self._client.fetch_balance())
        return to_balances(raw)

    # ---- orders ----------------------------------------------------------------------------

    async def create_order(self, req: OrderRequest) -> Order:
        market, sent = await self._prepare(req)
        if sent.type.is_stop:
            return await self._stops.create(sent, market)
        return await self._place(
            sent, market, str(sent.type), {self.venue.client_id_param: sent.client_order_id}
        )

    async def _prepare(self, req: OrderRequest) -> tuple[Market, OrderRequest]:
        """Validate the client id, round amount and prices, check the venue's limits (and that
        a stop's trigger is not reached yet); the request as it will be sent."""
        cid = req.client_order_id
        market = await self._market(req.symbol)
        rules = self.venue.client_ids
        if not cid or not rules.is_valid(cid):
            raise OrderRejected(
                f"client order id {cid!r} is not valid on {self.venue.exchange_id} "
                f"(1-{rules.max_length} of [{rules.charset}])",
                client_order_id=cid,
            )
        amount = market.round_amount(req.amount)
        price = trigger = None
        if req.type.is_stop:
            if self.venue.stops is None:
                raise OrderRejected(
                    f"{self.venue.exchange_id} has no stop orders through this adapter",
                    client_order_id=cid,
                )
            check_stop_request(req)
            assert req.trigger_price is not None
            trigger = market.round_price(req.trigger_price)
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
            await self._stops.refuse_if_reached(market, req.side, trigger, cid)
        return market, replace(req, amount=amount, price=price, trigger_price=trigger)

    async def _place(
        self, sent: OrderRequest, market: Market, ccxt_type: str, params: dict[str, Any]
    ) -> Order:
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
            raw = await self._call(
                Action.PLACE,
                lambda: self._client.create_order(
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
            now=self._clock(),
            request=sent,
            untriggered=self._untriggered,
        )
        self._remember(order)
        log.info(
            "ccxt_order_acked",
            venue=self.name,
            client_order_id=cid,
            exchange_order_id=order.exchange_order_id,
            status=str(order.status),
            filled=str(order.filled),
        )
        return order

    async def _reference_price(self, market: Market, side: Side) -> Decimal | None:
        ticker = await self.fetch_ticker(market.symbol)
        best = ticker.ask if side is Side.BUY else ticker.bid
        return best if best is not None else ticker.last

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        market = await self._market(symbol)
        cid = client_order_id
        params = {self.venue.lookup_param: cid}
        try:
            raw = await self._call(
                Action.CANCEL, lambda: self._client.cancel_order(None, symbol, params), cid
            )
        except OrderNotFound:
            if not self._stops.separate:
                raise
            raw = await self._stops.cancel(symbol, cid)
        if not raw.get("status"):
            # A bare acknowledgement (okx, bybit): the order itself tells its final state.
            raw = await self._lookup(symbol, cid) or raw
        log.info("ccxt_order_canceled", venue=self.name, client_order_id=cid)
        return await self._order_from(raw, cid, market)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        market = await self._market(symbol)
        raw = await self._lookup(symbol, client_order_id)
        if raw is None:
            return None
        return await self._order_from(raw, client_order_id, market)

    async def _lookup(self, symbol: str, cid: str) -> RawOrder | None:
        """The raw order with this client id: plain orders first, then the venue's stops."""
        raw = await self._search(symbol, cid, {})
        if raw is None and self._stops.separate:
            raw = await self._search(symbol, cid, self._stops.stop_params())
        return raw

    async def _search(self, symbol: str, cid: str, extra: dict[str, Any]) -> RawOrder | None:
        params = {self.venue.lookup_param: cid, **extra}
        if self.venue.lookup is ClientIdLookup.FETCH_ORDER_PARAM:
            try:
                return await self._read(
                    "fetch_order", lambda: self._client.fetch_order(None, symbol, params)
                )
            except OrderNotFound:
                return None
        for what, method in (
            ("fetch_open_orders", self._client.fetch_open_orders),
            ("fetch_closed_orders", self._client.fetch_canceled_and_closed_orders),
        ):
            rows = await self._read(
                what,
                lambda method=method: method(symbol, None, None, params),  # type: ignore[misc]
            )
            matches = [r for r in rows if self._stops.client_id_of(r) == cid]
            if matches:
                return matches[-1]
        return None

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders, stops included (waiting for their trigger or working)."""
        markets = await self._current_markets()
        rows = await self._read("fetch_open_orders", lambda: self._client.fetch_open_orders(symbol))
        if self._stops.separate:
            seen = {str(r.get("id")) for r in rows}
            rows = [
                *rows,
                *(r for r in await self._stops.open_rows(symbol) if str(r.get("id")) not in seen),
            ]
        orders = []
        for raw in rows:
            market = markets.get(raw.get("symbol", ""))
            if market is None:
                continue
            cid = self._stops.client_id_of(raw) or str(raw.get("id"))
            orders.append(await self._order_from(raw, cid, market))
        return orders

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        market = await self._market(symbol)
        since_ms = None if since is None else int(since.timestamp() * 1000)
        rows = await self._read(
            "fetch_my_trades", lambda: self._client.fetch_my_trades(symbol, since_ms)
        )
        now = self._clock()
        fills = []
        for raw in rows:
            cid = await self._client_id_of_trade(raw, symbol)
            fill = to_fill(raw, client_order_id=cid, market=market, now=now)
            if since is None or fill.timestamp >= since:
                fills.append(fill)
        fills.sort(key=lambda f: (f.timestamp, f.trade_id))
        return fills

    async def close(self) -> None:
        await self._client.close()

    # ---- helpers ---------------------------------------------------------------------------

    def _remember(self, order: Order) -> None:
        if order.exchange_order_id is not None:
            self._client_ids_by_order[order.exchange_order_id] = order.client_order_id

    async def _order_from(self, raw: RawOrder, cid: str, market: Market) -> Order:
        """Parse a reply; a venue whose order replies carry no fee gets it from the trades; a
        triggered stop whose working order is separate (okx) reports that order's state."""
        if self.venue.stops is not None and self.venue.stops.child_order_field:
            child = await self._stops.child_order(raw, cid, market)
            if child is not None:
                return child
        fee = None
        filled = dec(raw.get("filled")) or 0
        price_hint = dec(raw.get("average")) or dec(raw.get("price"))
        known = fees_in_quote(order_fees(raw), market, price_hint)
        if filled > 0 and known is None and self.venue.trades_by_order_param and raw.get("id"):
            fee = await self._fee_from_trades(market, str(raw["id"]))
        order = to_order(
            raw,
            client_order_id=cid,
            market=market,
            now=self._clock(),
            fee=fee,
            untriggered=self._untriggered,
        )
        self._remember(order)
        return order

    async def _fee_from_trades(self, market: Market, exchange_order_id: str) -> Decimal | None:
        param = self.venue.trades_by_order_param
        assert param is not None
        rows = await self._read(
            "fetch_my_trades",
            lambda: self._client.fetch_my_trades(
                market.symbol, None, None, {param: exchange_order_id}
            ),
        )
        total: Decimal | None = None
        for t in rows:
            part = fees_in_quote([t.get("fee")], market, dec(t.get("price")))
            if part is not None:
                total = part if total is None else total + part
        return total

    async def _client_id_of_trade(self, raw: dict[str, Any], symbol: str) -> str | None:
        order_id = raw.get("order")
        native = (raw.get("info") or {}).get(self.venue.native_client_id_field)
        if native:
            return str(native)
        if order_id is None:
            return None
        order_id = str(order_id)
        if order_id not in self._client_ids_by_order:
            try:
                found = await self._read(
                    "fetch_order", lambda: self._client.fetch_order(order_id, symbol)
                )
            except ExchangeError as exc:
                log.warning(
                    "ccxt_trade_order_unknown",
                    venue=self.name,
                    order_id=order_id,
                    reason=exc.reason,
                )
                return None
            found_cid = self._stops.client_id_of(found)
            if found_cid:
                self._client_ids_by_order[order_id] = found_cid
        return self._client_ids_by_order.get(order_id)
