"""The emulator's exchange state: balances, scripted books, our orders and trades, matching.

Fill rules (each pinned by a test in tests/integration/test_emulator.py):
- A taker order (market, or the crossing part of a limit) walks the scripted book best level
  first at each level's price, consuming the level; a market order that runs out of liquidity
  ends EXPIRED with what it got.
- A resting limit order fills at its own price (maker) when the scripted book crosses it, up to
  the quantity available at crossing levels, so a thin book gives a partial fill.
- Fees: `fee_rate` of each fill, charged in the asset received (base on a buy, quote on a
  sell), like Binance without BNB.
- A limit buy locks amount * price quote, a sell locks the amount of base; the lock is released
  as fills consume it and when the order ends.
- newClientOrderId must be unique among OPEN orders, as on Binance (`unique_client_ids="open"`);
  "all" makes any reuse a duplicate.
- STOP_LOSS_LIMIT (stopPrice, price, timeInForce, quantity) rests NEW and untriggered, locking
  funds like a LIMIT order; one the book has already reached is refused (-2010 "Stop price
  would trigger immediately."). It triggers when a scripted book has the best bid at or below
  stopPrice (a buy: best ask at or above), then trades like a LIMIT order arriving then: the
  crossing part fills at once as taker at book prices, the rest rests. (Binance compares the
  last trade price; the emulator uses the book so tests script one thing.)
- POST /api/v3/order/cancelReplace cancels then places in one request; with STOP_ON_FAILURE a
  failed cancel places nothing (-2022), a failed placement after the cancel leaves no order
  (-2021, HTTP 409), each half reported in `data` as Binance does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import count
from typing import Any

from tests.emulator.book import Book, book_from_levels, build_book, default_book, floor_to
from tests.emulator.catalog import DEFAULT_BALANCES, EIGHT_PLACES, SYMBOLS, SymbolSpec, symbol_id
from tests.emulator.records import BinanceError, EmuOrder, EmuTrade

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
NUMBER_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
INSUFFICIENT = "Account has insufficient balance for requested action."
LIMIT_TYPES = ("LIMIT", "STOP_LOSS_LIMIT")
ORDER_TYPES = ("LIMIT", "MARKET", "STOP_LOSS_LIMIT")


def mandatory(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise BinanceError(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def _number(params: Mapping[str, str], name: str) -> Decimal:
    raw = mandatory(params, name)
    if not NUMBER_RE.match(raw):
        raise BinanceError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        )
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - regex already guards
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.") from exc


class Engine:
    """Thread-safe: every public method takes `lock`."""

    def __init__(self, fee_rate: Decimal = Decimal("0.001")) -> None:
        self.lock = threading.RLock()
        self.fee_rate = fee_rate
        self.unique_client_ids = "open"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.balances: dict[str, list[Decimal]] = {
                asset: [amount, Decimal(0)] for asset, amount in DEFAULT_BALANCES.items()
            }
            self.books: dict[str, Book] = {s: default_book(spec) for s, spec in SYMBOLS.items()}
            self.orders: dict[int, EmuOrder] = {}
            self._ids_by_client_id: dict[str, list[int]] = {}
            self.trades: list[EmuTrade] = []
            self._order_ids = count(1)
            self._trade_ids = count(1)
            self._generated_ids = count(1)

    # ---- scripting -------------------------------------------------------------------------

    def set_balances(self, amounts: Mapping[str, Decimal]) -> None:
        """Set the free balance of each asset given; locked amounts are untouched."""
        with self.lock:
            for asset, amount in amounts.items():
                self._wallet(asset.upper())[0] = amount

    def set_market(self, payload: Mapping[str, Any], now_ms: int) -> None:
        """Replace a symbol's scripted book, then fill resting orders the new book crosses.

        `payload`: {symbol, bid, ask, levels?, qty?, gap?, last?} or {symbol, bids, asks}.
        """
        with self.lock:
            spec = self.spec(str(payload["symbol"]))
            last = _opt_dec(payload.get("last"))
            if "bids" in payload or "asks" in payload:
                book = book_from_levels(
                    [[Decimal(str(p)), Decimal(str(q))] for p, q in payload.get("bids", [])],
                    [[Decimal(str(p)), Decimal(str(q))] for p, q in payload.get("asks", [])],
                    last=last,
                )
            else:
                book = build_book(
                    spec,
                    _opt_dec(payload.get("bid")),
                    _opt_dec(payload.get("ask")),
                    levels=int(payload.get("levels", 5)),
                    qty=_opt_dec(payload.get("qty")),
                    gap=_opt_dec(payload.get("gap")),
                    last=last,
                )
            if book.last is None:
                book.last = self.books[spec.symbol].last
            self.books[spec.symbol] = book
            self._match_resting(spec, now_ms)

    # ---- trading ---------------------------------------------------------------------------

    def spec(self, symbol: str) -> SymbolSpec:
        spec = SYMBOLS.get(symbol_id(symbol))
        if spec is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return spec

    def place_order(self, params: Mapping[str, str], now_ms: int) -> EmuOrder:
        with self.lock:
            spec = self.spec(mandatory(params, "symbol"))
            side = mandatory(params, "side").upper()
            if side not in ("BUY", "SELL"):
                raise BinanceError(-1117, "Invalid side.")
            order_type = mandatory(params, "type").upper()
            if order_type not in ORDER_TYPES:
                raise BinanceError(-1116, "Invalid orderType.")
            client_id = params.get("newClientOrderId") or f"emu{next(self._generated_ids):019d}"
            if not CLIENT_ID_RE.match(client_id):
                raise BinanceError(
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                    "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
                )
            book = self.books[spec.symbol]
            stop_price = Decimal(0)
            if order_type in LIMIT_TYPES:
                tif = mandatory(params, "timeInForce").upper()
                price = _number(params, "price")
                qty = _number(params, "quantity")
                self._check_price(spec, price)
                self._check_qty(spec, qty)
                if order_type == "STOP_LOSS_LIMIT":
                    stop_price = _number(params, "stopPrice")
                    self._check_price(spec, stop_price)
                if qty * price < spec.min_notional:
                    raise BinanceError(-1013, "Filter failure: NOTIONAL")
                if order_type == "STOP_LOSS_LIMIT" and stop_reached(side, stop_price, book):
                    raise BinanceError(-2010, "Stop price would trigger immediately.")
            else:
                tif, price = "GTC", Decimal(0)
                qty = self._market_qty(spec, book, side, params)
            self._check_duplicate(client_id)
            order = EmuOrder(
                order_id=next(self._order_ids),
                client_order_id=client_id,
                symbol=spec.symbol,
                side=side,
                type=order_type,
                time_in_force=tif,
                price=price,
                orig_qty=qty,
                time_ms=now_ms,
                update_ms=now_ms,
                stop_price=stop_price,
            )
            if order.waiting_for_trigger:
                plan = []
            else:
                limit = price if order_type in LIMIT_TYPES else None
                plan = self._taker_plan(book, side, qty, limit)
            if tif == "FOK" and sum((take for _, take in plan), Decimal(0)) < qty:
                plan = []  # fill-or-kill: all or nothing
            self._reserve(spec, order, plan)
            self.orders[order.order_id] = order
            self._ids_by_client_id.setdefault(client_id, []).append(order.order_id)
            for level, take in plan:
                self._fill(spec, order, level[0], take, now_ms, is_maker=False)
                level[1] -= take
            book.prune()
            self._finish_taker(order)
            return order

    def cancel_order(self, params: Mapping[str, str], now_ms: int) -> tuple[EmuOrder, str]:
        with self.lock:
            try:
                order = self._find(params)
            except BinanceError as exc:
                raise BinanceError(-2011, "Unknown order sent.") from exc
            if not order.is_open:
                raise BinanceError(-2011, "Unknown order sent.")
            order.status = "CANCELED"
            order.update_ms = now_ms
            self._release(order)
            cancel_id = params.get("newClientOrderId") or f"emucancel{order.order_id}"
            return order, cancel_id

    def end_order(self, symbol: str, client_id: str, status: str, now_ms: int) -> EmuOrder:
        """The venue ends an open order on its own (CANCELED or EXPIRED), releasing its funds:
        what an account event, venue maintenance or a person in the web UI does."""
        if status not in ("CANCELED", "EXPIRED"):
            raise BinanceError(-1100, f"the venue ends orders CANCELED or EXPIRED, not {status}")
        with self.lock:
            order = self._find({"symbol": symbol, "origClientOrderId": client_id})
            if not order.is_open:
                raise BinanceError(-2011, "Unknown order sent.")
            order.status = status
            order.update_ms = now_ms
            self._release(order)
            return order

    def get_order(self, params: Mapping[str, str]) -> EmuOrder:
        with self.lock:
            return self._find(params)

    def open_orders(self, symbol: str | None) -> list[EmuOrder]:
        with self.lock:
            wanted = self.spec(symbol).symbol if symbol else None
            return [
                o
                for o in self.orders.values()
                if o.is_open and (wanted is None or o.symbol == wanted)
            ]

    def all_orders(self, params: Mapping[str, str]) -> list[EmuOrder]:
        with self.lock:
            wanted = self.spec(mandatory(params, "symbol")).symbol
            start = int(params.get("startTime", 0))
            rows = [o for o in self.orders.values() if o.symbol == wanted and o.time_ms >= start]
            return rows[-int(params.get("limit", 500)) :]

    def my_trades(self, params: Mapping[str, str]) -> list[EmuTrade]:
        with self.lock:
            wanted = self.spec(mandatory(params, "symbol")).symbol
            start = int(params.get("startTime", 0))
            end = int(params.get("endTime", 2**62))
            from_id = int(params.get("fromId", 0))
            order_id = params.get("orderId")
            rows = [
                t
                for t in self.trades
                if t.symbol == wanted
                and start <= t.time_ms <= end
                and t.trade_id >= from_id
                and (order_id is None or t.order_id == int(order_id))
            ]
            return rows[: min(int(params.get("limit", 500)), 1000)]

    def account_balances(self) -> list[dict[str, str]]:
        with self.lock:
            return [
                {"asset": a, "free": f"{free:f}", "locked": f"{locked:f}"}
                for a, (free, locked) in sorted(self.balances.items())
            ]

    # ---- internals -------------------------------------------------------------------------

    def _wallet(self, asset: str) -> list[Decimal]:
        return self.balances.setdefault(asset, [Decimal(0), Decimal(0)])

    @staticmethod
    def _check_price(spec: SymbolSpec, price: Decimal) -> None:
        if (
            price < spec.min_price
            or price > spec.max_price
            or (price - spec.min_price) % spec.tick != 0
        ):
            raise BinanceError(-1013, "Filter failure: PRICE_FILTER")

    @staticmethod
    def _check_qty(spec: SymbolSpec, qty: Decimal) -> None:
        if qty < spec.min_qty or qty > spec.max_qty or (qty - spec.min_qty) % spec.step != 0:
            raise BinanceError(-1013, "Filter failure: LOT_SIZE")

    def _market_qty(
        self, spec: SymbolSpec, book: Book, side: str, params: Mapping[str, str]
    ) -> Decimal:
        """Base quantity of a market order; a quoteOrderQty buy spends up to that much quote."""
        if params.get("quantity"):
            qty = _number(params, "quantity")
        elif params.get("quoteOrderQty"):
            budget = _number(params, "quoteOrderQty")
            qty = Decimal(0)
            for price, level_qty in book.side_for_taker(side):
                take = min(level_qty, floor_to(budget / price, spec.step))
                qty += take
                budget -= take * price
                if take < level_qty:
                    break
        else:
            raise BinanceError(
                -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            )
        self._check_qty(spec, qty)
        ref = book.reference_price()
        if ref is not None and qty * ref < spec.min_notional:
            raise BinanceError(-1013, "Filter failure: NOTIONAL")
        return qty

    def _check_duplicate(self, client_id: str) -> None:
        for order_id in self._ids_by_client_id.get(client_id, []):
            if self.unique_client_ids == "all" or self.orders[order_id].is_open:
                raise BinanceError(-2010, "Duplicate order sent.")

    @staticmethod
    def _taker_plan(
        book: Book, side: str, qty: Decimal, limit: Decimal | None
    ) -> list[tuple[list[Decimal], Decimal]]:
        """Levels a taker order consumes, best first: (level, quantity taken)."""
        plan: list[tuple[list[Decimal], Decimal]] = []
        left = qty
        for level in book.side_for_taker(side):
            if left <= 0:
                break
            crosses = limit is None or (level[0] <= limit if side == "BUY" else level[0] >= limit)
            if not crosses:
                break
            take = min(left, level[1])
            plan.append((level, take))
            left -= take
        return plan

    def _reserve(
        self, spec: SymbolSpec, order: EmuOrder, plan: list[tuple[list[Decimal], Decimal]]
    ) -> None:
        """Check and lock funds: a sell locks its whole amount, a limit buy amount * price, a
        market buy the cost of the levels it will take."""
        if order.side == "BUY":
            wallet = self._wallet(spec.quote)
            need = (
                order.orig_qty * order.price
                if order.type in LIMIT_TYPES
                else sum((lv[0] * take for lv, take in plan), Decimal(0))
            )
        else:
            wallet = self._wallet(spec.base)
            need = order.orig_qty
        if wallet[0] < need:
            raise BinanceError(-2010, INSUFFICIENT)
        wallet[0] -= need
        wallet[1] += need
        order.reserved = need

    def _fill(
        self,
        spec: SymbolSpec,
        order: EmuOrder,
        price: Decimal,
        qty: Decimal,
        now_ms: int,
        *,
        is_maker: bool,
    ) -> None:
        base, quote = self._wallet(spec.base), self._wallet(spec.quote)
        notional = price * qty
        if order.side == "BUY":
            spent = qty * order.price if order.type in LIMIT_TYPES else notional
            quote[1] -= spent
            quote[0] += spent - notional  # price improvement on a crossing limit buy
            order.reserved -= spent
            commission = (qty * self.fee_rate).quantize(EIGHT_PLACES, ROUND_HALF_UP)
            base[0] += qty - commission
            asset = spec.base
        else:
            base[1] -= qty
            order.reserved -= qty
            commission = (notional * self.fee_rate).quantize(EIGHT_PLACES, ROUND_HALF_UP)
            quote[0] += notional - commission
            asset = spec.quote
        trade = EmuTrade(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            symbol=spec.symbol,
            is_buyer=order.side == "BUY",
            price=price,
            qty=qty,
            commission=commission,
            commission_asset=asset,
            time_ms=now_ms,
            is_maker=is_maker,
        )
        self.trades.append(trade)
        order.trades.append(trade)
        order.executed_qty += qty
        order.cumm_quote += notional
        order.update_ms = now_ms
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        self.books[spec.symbol].last = price

    def _finish_taker(self, order: EmuOrder) -> None:
        if order.remaining <= 0:
            order.status = "FILLED"
        elif order.waiting_for_trigger:
            pass  # IOC/FOK apply once the stop has triggered
        elif order.type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
            order.status = "EXPIRED"
        if not order.is_open:
            self._release(order)

    def _release(self, order: EmuOrder) -> None:
        spec = SYMBOLS[order.symbol]
        wallet = self._wallet(spec.quote if order.side == "BUY" else spec.base)
        wallet[1] -= order.reserved
        wallet[0] += order.reserved
        order.reserved = Decimal(0)

    def _match_resting(self, spec: SymbolSpec, now_ms: int) -> None:
        book = self.books[spec.symbol]
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.symbol != spec.symbol or not order.is_open:
                continue
            if order.waiting_for_trigger:
                if stop_reached(order.side, order.stop_price, book):
                    self._trigger(spec, order, book, now_ms)
                continue
            for level, take in self._taker_plan(book, order.side, order.remaining, order.price):
                self._fill(spec, order, order.price, take, now_ms, is_maker=True)
                level[1] -= take
            book.prune()
            if not order.is_open:
                self._release(order)

    def _trigger(self, spec: SymbolSpec, order: EmuOrder, book: Book, now_ms: int) -> None:
        """The stop becomes a LIMIT order arriving now: the crossing part fills as taker."""
        order.working_ms = now_ms
        order.update_ms = now_ms
        for level, take in self._taker_plan(book, order.side, order.remaining, order.price):
            self._fill(spec, order, level[0], take, now_ms, is_maker=False)
            level[1] -= take
        book.prune()
        self._finish_taker(order)

    def _find(self, params: Mapping[str, str]) -> EmuOrder:
        symbol = self.spec(mandatory(params, "symbol")).symbol
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        if order_id:
            candidates = [int(order_id)] if order_id.isdigit() else []
        else:
            candidates = self._ids_by_client_id.get(client_id or "", [])[::-1]  # latest first
        for candidate in candidates:
            order = self.orders.get(candidate)
            if order is not None and order.symbol == symbol:
                return order
        raise BinanceError(-2013, "Order does not exist.")

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "orders": [o.as_query() for o in self.orders.values()],
                "trades": [t.as_my_trade() for t in self.trades],
                "balances": {
                    a: {"free": f"{f:f}", "locked": f"{lk:f}"}
                    for a, (f, lk) in sorted(self.balances.items())
                },
                "books": {
                    s: {
                        "bids": [[f"{p:f}", f"{q:f}"] for p, q in b.bids],
                        "asks": [[f"{p:f}", f"{q:f}"] for p, q in b.asks],
                        "last": None if b.last is None else f"{b.last:f}",
                    }
                    for s, b in self.books.items()
                },
            }


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def stop_reached(side: str, stop_price: Decimal, book: Book) -> bool:
    """A sell stop is reached when the best bid is at or below it, a buy when the best ask is
    at or above it."""
    if side == "SELL":
        return book.best_bid is not None and book.best_bid <= stop_price
    return book.best_ask is not None and book.best_ask >= stop_price
