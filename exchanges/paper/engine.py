"""The paper engine: an `ExchangeAdapter` that simulates a venue on real or scripted market data.

Orders are checked like a real venue would (amount truncated to the step, price rounded to the
nearest tick, minimum amount / notional, free balance) and matched against the market data
source's order book, or its ticker when no depth is known, or candles in a backtest. Balances,
orders and fills live in a `PaperLedger`; each state change is written atomically.

Fill rules (each pinned by a test of the same id in tests/unit/exchanges/test_paper_rules.py):

- M1  A market order walks the opposite side of the book, best level first, each level filling
      at its own price, as taker.
- M2  With no depth known (ticker only), a market buy fills entirely at ask * (1 + slippage),
      a sell at bid * (1 - slippage), rounded to the tick against the trader.
- M3  A market order the book cannot fill completely fills what is there; the rest expires
      (status EXPIRED). With no price at all it is rejected.
- L1  A limit order that crosses the market on arrival fills at once as taker, at book prices
      no worse than its limit (ticker only: the M2 price capped at the limit); the rest rests.
- L2  A resting limit buy fills when the best ask is at or below its price (sell: best bid at or
      above), at its own limit price as maker, for at most the book volume at or better than
      that price, so a thin book gives a partial fill. Ticker only: fills completely. Every
      poll (`match_resting`) treats the book as fresh liquidity.
- L3  Within one poll, resting orders share the book in price-time priority: the best-priced,
      then oldest, order consumes the volume first.
- C1  On a candle a resting buy fills completely if low <= price, at min(price, open) - a gap
      down fills at the open; a sell if high >= price, at max(price, open). Maker fee.
- C2  A candle only fills orders created at or before its open time `ts` (no look-ahead).
- F1  Fees are always charged, in quote currency: maker for resting fills, taker otherwise;
      a buy pays cost + fee, a sell receives cost - fee.
- F2  A limit buy reserves amount * price * (1 + max(maker, taker)) quote, a sell reserves the
      base amount; a market buy needs cost + fee of its simulated fills free. The reservation
      is released as the order fills, and the rest when it closes or is canceled.

Stop-limit orders follow rules S1-S3, SC1-SC3 and R1, listed in `exchanges.paper.stops`.

Rejected orders are not recorded (as on real venues): their client id may be used again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import structlog

from exchanges.base import (
    Balance,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderType,
    Side,
    Ticker,
    VenueRows,
    format_decimal,
)
from exchanges.errors import (
    DuplicateClientOrderId,
    OrderNotFound,
    OrderRejected,
    RetryableError,
)
from exchanges.market_data import MarketDataSource
from exchanges.paper.accounting import ZERO, cancel, settle
from exchanges.paper.ledger import AssetBalance, LedgerChange, PaperLedger, PaperOrder
from exchanges.paper.matching import Execution, candle_fill_price, priority_key
from exchanges.paper.orders import Liquidity, accept_order, resting_executions, trade_ids
from exchanges.paper.stops import trigger_on_candle, trigger_on_poll
from exchanges.stops import (
    ReplaceMethod,
    StopReplacement,
    VenueCapabilities,
    check_replaceable,
    check_stop_request,
)

PAPER_CAPABILITIES = VenueCapabilities(
    stop_orders=True,
    stop_order_type=OrderType.STOP_LIMIT,
    replace_method=ReplaceMethod.CANCEL_REPLACE,
    stop_reserves_base=True,
    trigger_reference="best bid (sell) / best ask (buy), or the candle's range",
    note="simulated: rules S1-S3, SC1-SC3, R1 in exchanges.paper.stops",
)

log = structlog.get_logger(__name__)

_EMPTY = AssetBalance(free=ZERO, used=ZERO)


@dataclass(frozen=True, slots=True)
class PaperConfig:
    """`slippage` is a fraction (0.0005 = 0.05 %) applied to ticker-only market fills.
    `maker_fee`/`taker_fee` override the venue's fractions when set. `use_order_book=False`
    matches on the ticker alone (one request less per poll)."""

    venue: str = "binance"
    starting_balances: Mapping[str, Decimal] = field(
        default_factory=lambda: {"USDT": Decimal(10000)}
    )
    slippage: Decimal = Decimal("0.0005")
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    book_depth: int = 50
    use_order_book: bool = True


class PaperExchange:
    """Simulated venue. `clock` gives the current UTC time (system, simulated or accelerated)."""

    def __init__(
        self,
        market_data: MarketDataSource,
        store: PaperLedger,
        clock: Callable[[], datetime],
        config: PaperConfig | None = None,
    ) -> None:
        self.config = config or PaperConfig()
        self.name = f"paper:{self.config.venue}"
        self._data = market_data
        self._store = store
        self._clock = clock
        self._markets: dict[str, Market] | None = None
        # Per asset: the ledger's last balance and the Balance built from it (both immutable).
        self._balance_views: dict[str, tuple[AssetBalance, Balance]] = {}
        if store.seed_balances(self.config.starting_balances):
            log.info("paper_account_opened", venue=self.config.venue)

    # -- market data --------------------------------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        if self._markets is None or reload:
            raw = await self._data.load_markets(reload)
            self._markets = {symbol: self._with_fees(m) for symbol, m in raw.items()}
        return dict(self._markets)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self._data.fetch_ticker(symbol)

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        return await self._data.fetch_order_book(symbol, limit)

    # -- account ------------------------------------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        # Asked several times per job run, while most runs change no balance: a Balance is
        # rebuilt only when the ledger holds a new AssetBalance for its asset. The dict is new
        # on every call, so callers may change it.
        views = self._balance_views
        result: dict[str, Balance] = {}
        for asset, held in self._store.balances().items():
            view = views.get(asset)
            if view is None or view[0] is not held:
                view = (held, Balance(asset, free=held.free, used=held.used, total=held.total))
                views[asset] = view
            result[asset] = view[1]
        return result

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        paper = self._store.get_order(client_order_id)
        if paper is None or paper.order.symbol != symbol:
            return None
        return paper.order

    async def fetch_open_orders(self, symbol: str | None = None) -> VenueRows[Order]:
        return VenueRows(p.order for p in self._store.open_orders(symbol))

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> VenueRows[Fill]:
        # The paper ledger writes every row itself: nothing is ever skipped.
        return VenueRows(self._store.fills(symbol, since))

    async def close(self) -> None:
        await self._data.close()

    # -- orders -------------------------------------------------------------------------------

    @property
    def capabilities(self) -> VenueCapabilities:
        return PAPER_CAPABILITIES

    async def create_order(self, req: OrderRequest) -> Order:
        _, change = await self._accept(req)
        self._store.apply(change)
        return self._accepted(req, change)

    async def _accept(
        self, req: OrderRequest, replacing: str | None = None
    ) -> tuple[LedgerChange | None, LedgerChange]:
        """Check and price `req`; with `replacing`, as if that stop were canceled first (R1).
        Returns (the cancel, the acceptance), not applied yet."""
        cid = req.client_order_id
        if not cid:
            raise OrderRejected(f"client order id is required for {req.symbol}")
        market = await self._market(req.symbol)
        self._ensure_new(cid, req.symbol)
        amount = market.round_amount(req.amount)
        price: Decimal | None = None
        trigger: Decimal | None = None
        if req.type.is_stop:
            check_stop_request(req)
            assert req.trigger_price is not None
            trigger = market.round_price(req.trigger_price)
        if req.type.has_limit_price:
            if req.price is None:
                raise OrderRejected(
                    f"{req.type.value} order on {req.symbol} needs a price", client_order_id=cid
                )
            price = market.round_price(req.price)
        liquidity = await self._liquidity(req.symbol)
        reference = price if price is not None else liquidity.best(req.side)
        if reference is None:
            raise OrderRejected(
                f"no {'ask' if req.side is Side.BUY else 'bid'} price for {req.symbol}",
                client_order_id=cid,
            )
        reason = market.check(amount, reference)
        if reason is not None:
            if amount != req.amount:
                reason += (
                    f" (requested {format_decimal(req.amount)}, "
                    f"step {format_decimal(market.amount_step)})"
                )
            raise OrderRejected(reason, client_order_id=cid)
        # From here on no await: the state read below is the state the change applies to.
        # Re-checked: another order may have taken this id while market data was awaited.
        self._ensure_new(cid, req.symbol)
        now = self._clock()
        held = self._store.balances()
        released: LedgerChange | None = None
        if replacing is not None:
            old = self._store.get_order(replacing)
            check_replaceable(None if old is None else old.order, req.symbol, replacing, req)
            assert old is not None
            released = cancel(old, held, now)
            held = {**held, **released.balances}
        change = accept_order(
            req,
            market,
            amount,
            price,
            liquidity,
            {asset: held.get(asset, _EMPTY) for asset in (market.base, market.quote)},
            seq=self._store.order_count() + 1,
            first_trade_seq=self._store.fill_count() + 1,
            slippage=self.config.slippage,
            now=now,
            trigger_price=trigger,
        )
        return released, change

    def _accepted(self, req: OrderRequest, change: LedgerChange) -> Order:
        order = change.order.order
        log.info(
            "paper_order_accepted",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=req.side.value,
            type=req.type.value,
            amount=str(order.amount),
            price=None if order.price is None else str(order.price),
            trigger_price=None if order.trigger_price is None else str(order.trigger_price),
            status=order.status.value,
            filled=str(order.filled),
        )
        return order

    async def replace_stop(
        self,
        symbol: str,
        old_client_order_id: str,
        new_request: OrderRequest,
        *,
        position_amount: Decimal | None = None,
    ) -> StopReplacement:
        """Rule R1; semantics in `exchanges.stops`. `position_amount` is not needed here: the
        paper venue never has both stops live."""
        old_cid = old_client_order_id
        paper = self._store.get_order(old_cid)
        check_replaceable(None if paper is None else paper.order, symbol, old_cid, new_request)
        released, change = await self._accept(new_request, replacing=old_cid)
        assert released is not None
        self._store.apply_all([released, change])
        log.info(
            "paper_stop_replaced",
            old_client_order_id=old_cid,
            client_order_id=new_request.client_order_id,
            symbol=symbol,
            trigger_price=str(change.order.order.trigger_price),
        )
        self._accepted(new_request, change)
        return StopReplacement(
            order=change.order.order,
            previous=released.order.order,
            method=ReplaceMethod.CANCEL_REPLACE,
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        paper = self._store.get_order(client_order_id)
        if paper is None or paper.order.symbol != symbol:
            raise OrderNotFound(
                f"unknown order {client_order_id} on {symbol}", client_order_id=client_order_id
            )
        if not paper.order.is_open:
            raise OrderNotFound(
                f"order {client_order_id} on {symbol} is {paper.order.status.value}, not open",
                client_order_id=client_order_id,
            )
        change = cancel(paper, self._store.balances(), self._clock())
        self._store.apply(change)
        log.info("paper_order_canceled", client_order_id=client_order_id, symbol=symbol)
        return change.order.order

    # -- matching -----------------------------------------------------------------------------

    async def match_resting(self, symbol: str | None = None) -> list[Fill]:
        """Poll market data: trigger stops (S2, S3), then fill resting limit orders (L2, L3);
        returns the new fills."""
        symbols = sorted({p.order.symbol for p in self._store.open_orders(symbol)})
        fills: list[Fill] = []
        for sym in symbols:
            market = await self._market(sym)
            try:
                liquidity = await self._liquidity(sym)
            except RetryableError as exc:
                # One symbol's market data hiccup must not stop the others from matching.
                log.warning("paper_match_skipped", symbol=sym, reason=exc.reason)
                continue
            # Open orders are read after the awaits: some may have been canceled meanwhile.
            now = self._clock()
            stops = [p for p in self._store.open_orders(sym) if p.order.waiting_for_trigger]
            bid, ask = liquidity.bid, liquidity.ask
            fired, liquidity = trigger_on_poll(stops, liquidity, market, self.config.slippage, now)
            for paper, executions in fired:
                log.info(
                    "paper_stop_triggered",
                    client_order_id=paper.order.client_order_id,
                    symbol=sym,
                    trigger_price=str(paper.order.trigger_price),
                    bid=None if bid is None else str(bid),
                    ask=None if ask is None else str(ask),
                )
                fills.extend(self._settle(paper, executions, market, now))
            done = {p.order.client_order_id for p, _ in fired}
            resting = [p for p in self._by_priority(sym) if p.order.client_order_id not in done]
            for paper, execution in resting_executions(resting, liquidity):
                fills.extend(self._settle(paper, [execution], market, now))
        return fills

    def match_candle(
        self,
        symbol: str,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        ts: datetime,
    ) -> list[Fill]:
        """Fill resting orders of `symbol` on one candle (rules C1, C2, SC1-SC3); `ts` is its
        open time.

        Synchronous and free of market-data I/O, for backtests; needs `load_markets()` done.
        """
        market = None if self._markets is None else self._markets.get(symbol)
        if market is None:
            raise OrderRejected(f"unknown symbol {symbol} (load_markets first)")
        fills: list[Fill] = []
        waiting = self._store.open_orders(symbol)
        if not waiting:  # most candles of a backtest: nothing rests on this symbol
            return fills
        stops = [p for p in waiting if p.order.waiting_for_trigger and p.order.created_at <= ts]
        fired = trigger_on_candle(stops, open, high, low, ts)
        for paper, executions in fired:
            fills.extend(self._settle(paper, executions, market, ts))
        done = {p.order.client_order_id for p, _ in fired}
        # Settling a fired stop changed the open orders; otherwise they are still `waiting`.
        resting = self._by_priority(symbol) if fired else _prioritized(waiting)
        for paper in resting:
            order = paper.order
            if order.created_at > ts or order.price is None or order.waiting_for_trigger:
                continue
            if order.client_order_id in done:
                continue
            fill_price = candle_fill_price(order.side, order.price, open, high, low)
            if fill_price is not None:
                execution = Execution(price=fill_price, amount=order.remaining, is_maker=True)
                fills.extend(self._settle(paper, [execution], market, ts))
        return fills

    # -- internals ----------------------------------------------------------------------------

    def _settle(
        self, paper: PaperOrder, executions: list[Execution], market: Market, now: datetime
    ) -> tuple[Fill, ...]:
        ids = trade_ids(self._store.fill_count() + 1, len(executions))
        change = settle(paper, executions, self._relevant_balances(market), market, now, ids)
        self._store.apply(change)
        for fill in change.fills:
            log.info(
                "paper_fill",
                client_order_id=fill.client_order_id,
                symbol=fill.symbol,
                side=fill.side.value,
                amount=str(fill.amount),
                price=str(fill.price),
                fee=str(fill.fee),
                is_maker=fill.is_maker,
            )
        return change.fills

    def _relevant_balances(self, market: Market) -> dict[str, AssetBalance]:
        held = self._store.balances()
        return {asset: held.get(asset, _EMPTY) for asset in (market.base, market.quote)}

    def _by_priority(self, symbol: str) -> list[PaperOrder]:
        return _prioritized(self._store.open_orders(symbol))

    async def _liquidity(self, symbol: str) -> Liquidity:
        if self.config.use_order_book:
            book = await self._data.fetch_order_book(symbol, self.config.book_depth)
            if book.bids and book.asks:
                return Liquidity(book.bids, book.asks, book.best_bid, book.best_ask)
        ticker = await self._data.fetch_ticker(symbol)
        return Liquidity((), (), ticker.bid, ticker.ask)

    async def _market(self, symbol: str) -> Market:
        markets = self._markets if self._markets is not None else await self.load_markets()
        market = markets.get(symbol)
        if market is None:
            raise OrderRejected(f"unknown symbol {symbol} on {self.name}")
        return market

    def _ensure_new(self, client_order_id: str, symbol: str) -> None:
        if self._store.get_order(client_order_id) is not None:
            raise DuplicateClientOrderId(
                f"client order id {client_order_id} already used on {self.name} ({symbol})",
                client_order_id=client_order_id,
            )

    def _with_fees(self, market: Market) -> Market:
        return replace(
            market,
            maker_fee=self.config.maker_fee
            if self.config.maker_fee is not None
            else market.maker_fee,
            taker_fee=self.config.taker_fee
            if self.config.taker_fee is not None
            else market.taker_fee,
        )


def _prioritized(orders: list[PaperOrder]) -> list[PaperOrder]:
    """Open orders in price-time priority (rule L3)."""
    return sorted(orders, key=lambda p: priority_key(p.order.side, p.order.price or ZERO, p.seq))
