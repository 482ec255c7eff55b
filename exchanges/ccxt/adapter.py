"""`CcxtExchange`: the `ExchangeAdapter` for real venues (testnet or live) through ccxt.

Error policy (each rule has a test in tests/integration/test_ccxt_faults.py or
tests/unit/exchanges/test_ccxt_errors.py):

- Every ccxt or transport exception is translated once, in `CcxtSession.call`, by
  `exchanges.ccxt.errors`; callers only ever see `exchanges.errors` types.
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
- A row of a list reply (trades, open orders) that cannot be read (`exchanges.ccxt.parse`) is
  skipped and returned in `VenueRows.skipped`, logged here; the other rows still count. A
  single order that cannot be read raises `MalformedReply` (retryable): "no such order" would
  invite a resend.

Venue differences (client id field and charset, lookup by client id, testnet method, password,
how stops are sent, found, canceled and replaced) come from `exchanges.venues`; nothing here
branches on an exchange id. Stop orders (STOP_LIMIT, `replace_stop`) live in
`exchanges.ccxt.stops`; their contract is in `exchanges.stops`. What both halves share - the
client, the markets cache, the request plumbing that applies the policy above, the order checks
and placement - is the `CcxtSession` of `exchanges.ccxt.session`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]  # ccxt ships no stubs
import structlog

from exchanges.base import (
    Balance,
    Fill,
    MalformedRow,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    Ticker,
    VenueRows,
)
from exchanges.ccxt.client import build_client
from exchanges.ccxt.errors import Action, install_response_hooks
from exchanges.ccxt.parse import (
    fees_in_quote,
    number,
    order_fees,
    to_balances,
    to_fill,
    to_order,
    to_order_book,
)
from exchanges.ccxt.session import CcxtSession, RawOrder
from exchanges.ccxt.stops import CcxtStops
from exchanges.errors import (
    ExchangeConfigError,
    ExchangeError,
    MalformedReply,
    OrderNotFound,
    OrderRejected,
)
from exchanges.retry import RetryPolicy, Sleep
from exchanges.stops import StopReplacement, VenueCapabilities
from exchanges.venues import VenueSpec, venue_spec

log = structlog.get_logger(__name__)

Mode = Literal["testnet", "live"]


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
        client = client or build_client(
            self.venue,
            mode,
            api_key=api_key or "",
            secret=secret or "",
            password=password,
            rest_url=rest_url,
            timeout=timeout,
            enable_rate_limit=enable_rate_limit,
        )
        install_response_hooks(client, clock)
        self._session = CcxtSession(
            self.venue,
            client,
            name=self.name,
            clock=clock,
            markets_max_age=markets_max_age,
            retry_policy=retry_policy or RetryPolicy(),
            sleep=sleep,
        )
        self._stops = CcxtStops(self._session, self)

    @property
    def client(self) -> ccxt_async.Exchange:
        """The underlying ccxt instance (for diagnostics; trading goes through the adapter)."""
        return self._session.client

    @property
    def capabilities(self) -> VenueCapabilities:
        """What this venue does with stop orders (`exchanges.venues` data)."""
        return self.venue.capabilities

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

    # ---- markets and market data -----------------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        """Spot markets by unified symbol ("BTC/USDT"); cached for `markets_max_age`."""
        return dict(await self._session.markets(reload))

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self._session.ticker(symbol)

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        session = self._session
        await session.market(symbol)
        raw = await session.read(
            "fetch_order_book", lambda: session.client.fetch_order_book(symbol, limit)
        )
        return to_order_book(raw, symbol, session.clock())

    async def fetch_balances(self) -> dict[str, Balance]:
        session = self._session
        raw = await session.read("fetch_balance", lambda: session.client.fetch_balance())
        return to_balances(raw)

    # ---- orders ----------------------------------------------------------------------------

    async def create_order(self, req: OrderRequest) -> Order:
        market, sent = await self._session.prepare(req)
        if sent.type.is_stop:
            return await self._stops.create(sent, market)
        return await self._session.place(
            sent, market, str(sent.type), {self.venue.client_id_param: sent.client_order_id}
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        session = self._session
        market = await session.market(symbol)
        cid = client_order_id
        params = {self.venue.lookup_param: cid}
        try:
            raw: RawOrder = await session.call(
                Action.CANCEL, lambda: session.client.cancel_order(None, symbol, params), cid
            )
        except OrderNotFound:
            if not self._stops.separate:
                raise
            raw = await self._stops.cancel(symbol, cid)
        if not raw.get("status"):
            # A bare acknowledgement (okx, bybit): the order itself tells its final state.
            raw = await self._stops.lookup(symbol, cid) or raw
        log.info("ccxt_order_canceled", venue=self.name, client_order_id=cid)
        return await self._order_from(raw, cid, market)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        market = await self._session.market(symbol)
        raw = await self._stops.lookup(symbol, client_order_id)
        if raw is None:
            return None
        return await self._order_from(raw, client_order_id, market)

    async def fetch_open_orders(self, symbol: str | None = None) -> VenueRows[Order]:
        """Open orders, stops included (waiting for their trigger or working); unreadable rows
        are in `skipped`."""
        session = self._session
        markets = await session.markets()
        rows: list[RawOrder] = await session.read(
            "fetch_open_orders", lambda: session.client.fetch_open_orders(symbol)
        )
        if self._stops.separate:
            seen = {str(r.get("id")) for r in rows}
            rows = [
                *rows,
                *(r for r in await self._stops.open_rows(symbol) if str(r.get("id")) not in seen),
            ]
        orders: list[Order] = []
        skipped: list[MalformedRow] = []
        for raw in rows:
            market = markets.get(raw.get("symbol", ""))
            if market is None:
                continue
            cid = session.client_id_of(raw) or str(raw.get("id"))
            try:
                orders.append(await self._order_from(raw, cid, market))
            except MalformedReply as exc:
                skipped.append(self._skip("order", market.symbol, raw.get("id"), None, exc))
        return VenueRows(orders, skipped)

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> VenueRows[Fill]:
        """Own fills, oldest first; each row is read on its own and an unreadable one is
        skipped into `skipped` (its client id is not looked up)."""
        session = self._session
        market = await session.market(symbol)
        since_ms = None if since is None else int(since.timestamp() * 1000)
        rows = await session.read(
            "fetch_my_trades", lambda: session.client.fetch_my_trades(symbol, since_ms)
        )
        fills: list[Fill] = []
        skipped: list[MalformedRow] = []
        for raw in rows:
            try:
                fill = to_fill(raw, client_order_id=None, market=market)
            except MalformedReply as exc:
                skipped.append(self._skip("trade", symbol, raw.get("id"), raw.get("order"), exc))
                continue
            if since is None or fill.timestamp >= since:
                cid = await self._client_id_of_trade(raw, symbol)
                fills.append(replace(fill, client_order_id=cid))
        fills.sort(key=lambda f: (f.timestamp, f.trade_id))
        return VenueRows(fills, skipped)

    async def close(self) -> None:
        await self._session.client.close()

    # ---- helpers ---------------------------------------------------------------------------

    def _skip(
        self, kind: str, symbol: str, raw_id: Any, order_id: Any, exc: MalformedReply
    ) -> MalformedRow:
        row = MalformedRow(
            kind=kind,
            symbol=symbol,
            raw_id=None if raw_id is None else str(raw_id),
            order_id=None if order_id is None else str(order_id),
            reason=exc.reason,
        )
        log.warning(
            "ccxt_row_skipped",
            venue=self.name,
            kind=kind,
            symbol=symbol,
            raw_id=row.raw_id,
            order_id=row.order_id,
            reason=row.reason,
        )
        return row

    async def _order_from(self, raw: RawOrder, cid: str, market: Market) -> Order:
        """Parse a reply; a venue whose order replies carry no fee gets it from the trades; a
        triggered stop whose working order is separate (okx) reports that order's state."""
        if self.venue.stops is not None and self.venue.stops.child_order_field:
            child = await self._stops.child_order(raw, cid, market)
            if child is not None:
                return child
        fee = None
        filled = number(raw.get("filled")) or 0
        price_hint = number(raw.get("average")) or number(raw.get("price"))
        known = fees_in_quote(order_fees(raw), market, price_hint)
        if filled > 0 and known is None and self.venue.trades_by_order_param and raw.get("id"):
            fee = await self._fee_from_trades(market, str(raw["id"]))
        order = to_order(
            raw,
            client_order_id=cid,
            market=market,
            now=self._session.clock(),
            fee=fee,
            untriggered=self._session.untriggered,
        )
        self._session.remember(order)
        return order

    async def _fee_from_trades(self, market: Market, exchange_order_id: str) -> Decimal | None:
        param = self.venue.trades_by_order_param
        assert param is not None
        session = self._session
        rows = await session.read(
            "fetch_my_trades",
            lambda: session.client.fetch_my_trades(
                market.symbol, None, None, {param: exchange_order_id}
            ),
        )
        total: Decimal | None = None
        for t in rows:
            part = fees_in_quote([t.get("fee")], market, number(t.get("price")))
            if part is not None:
                total = part if total is None else total + part
        return total

    async def _client_id_of_trade(self, raw: dict[str, Any], symbol: str) -> str | None:
        session = self._session
        order_id = raw.get("order")
        native = (raw.get("info") or {}).get(self.venue.native_client_id_field)
        if native:
            return str(native)
        if order_id is None:
            return None
        order_id = str(order_id)
        if session.known_client_id(order_id) is None:
            try:
                found = await session.read(
                    "fetch_order", lambda: session.client.fetch_order(order_id, symbol)
                )
            except ExchangeError as exc:
                log.warning(
                    "ccxt_trade_order_unknown",
                    venue=self.name,
                    order_id=order_id,
                    reason=exc.reason,
                )
                return None
            found_cid = session.client_id_of(found)
            if found_cid:
                session.remember_client_id(order_id, found_cid)
        return session.known_client_id(order_id)
