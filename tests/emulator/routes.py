"""Binance SPOT REST endpoints the emulator answers: public market data and signed trading.

Each route takes the merged request parameters and returns (HTTP status, JSON body); errors are
raised as `BinanceError` and rendered by the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from tests.emulator.catalog import SYMBOLS, exchange_info, fmt, symbol_id
from tests.emulator.engine import Engine
from tests.emulator.klines import klines
from tests.emulator.records import BinanceError
from tests.emulator.replace import cancel_replace

Params = Mapping[str, str]
Reply = tuple[int, Any]
MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000


def split_signature(raw: str) -> tuple[str, str | None]:
    """(the raw text without its `signature=` part, the signature) — what Binance signs."""
    kept, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = unquote(part[len("signature=") :])
        else:
            kept.append(part)
    return "&".join(kept), signature


def check_auth(
    *,
    api_key: str,
    api_secret: str,
    headers: Mapping[str, str],
    raw_query: str,
    raw_body: str,
    params: Params,
    now_ms: int,
) -> None:
    """Binance's checks for SIGNED endpoints: key, timestamp window, HMAC-SHA256 signature."""
    sent_key = next((v for k, v in headers.items() if k.lower() == "x-mbx-apikey"), None)
    if not sent_key:
        raise BinanceError(-2014, "API-key format invalid.", status=401)
    if sent_key != api_key:
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
    query_payload, query_sig = split_signature(raw_query)
    body_payload, body_sig = split_signature(raw_body)
    signature = query_sig or body_sig
    if not signature:
        raise BinanceError(
            -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    if "timestamp" not in params:
        raise BinanceError(
            -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    recv_window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
    if recv_window > MAX_RECV_WINDOW_MS:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    timestamp = int(params["timestamp"])
    if timestamp >= now_ms + 1000:
        raise BinanceError(
            -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if now_ms - timestamp > recv_window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
    expected = hmac.new(
        api_secret.encode(), (query_payload + body_payload).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise BinanceError(-1022, "Signature for this request is not valid.")


class Routes:
    """Binds the engine to (method, path) pairs."""

    def __init__(self, engine: Engine, now_ms: Callable[[], int]) -> None:
        self.engine = engine
        self.now_ms = now_ms
        self.candles = "flat"  # or "synthetic": see klines.py
        self.public: dict[tuple[str, str], Callable[[Params], Reply]] = {
            ("GET", "/api/v3/ping"): lambda p: (200, {}),
            ("GET", "/api/v3/time"): lambda p: (200, {"serverTime": self.now_ms()}),
            ("GET", "/api/v3/exchangeInfo"): self.exchange_info,
            ("GET", "/api/v3/ticker/bookTicker"): self.book_ticker,
            ("GET", "/api/v3/ticker/24hr"): self.ticker_24hr,
            ("GET", "/api/v3/ticker/price"): self.ticker_price,
            ("GET", "/api/v3/depth"): self.depth,
            ("GET", "/api/v3/klines"): self.klines,
            # A ccxt client not restricted to spot asks for futures markets too: list none.
            ("GET", "/fapi/v1/exchangeInfo"): self.empty_exchange_info,
            ("GET", "/dapi/v1/exchangeInfo"): self.empty_exchange_info,
        }
        self.signed: dict[tuple[str, str], Callable[[Params], Reply]] = {
            ("POST", "/api/v3/order"): self.create_order,
            ("POST", "/api/v3/order/test"): self.test_order,
            ("POST", "/api/v3/order/cancelReplace"): self.cancel_replace,
            ("GET", "/api/v3/order"): self.get_order,
            ("DELETE", "/api/v3/order"): self.cancel_order,
            ("GET", "/api/v3/openOrders"): self.open_orders,
            ("DELETE", "/api/v3/openOrders"): self.cancel_open_orders,
            ("GET", "/api/v3/allOrders"): self.all_orders,
            ("GET", "/api/v3/account"): self.account,
            ("GET", "/api/v3/myTrades"): self.my_trades,
        }

    # ---- public ----------------------------------------------------------------------------

    def exchange_info(self, p: Params) -> Reply:
        only: list[str] | None = None
        if "symbol" in p:
            only = [symbol_id(p["symbol"])]
        elif "symbols" in p:
            only = [symbol_id(s) for s in json.loads(p["symbols"])]
        if only is not None and any(s not in SYMBOLS for s in only):
            raise BinanceError(-1121, "Invalid symbol.")
        return 200, exchange_info(self.now_ms(), only)

    def empty_exchange_info(self, p: Params) -> Reply:
        return 200, {"timezone": "UTC", "serverTime": self.now_ms(), "symbols": []}

    def _symbols(self, p: Params) -> tuple[list[str], bool]:
        if "symbol" in p:
            return [self.engine.spec(p["symbol"]).symbol], True
        return list(SYMBOLS), False

    def _book_ticker(self, symbol: str) -> dict[str, Any]:
        book = self.engine.books[symbol]
        return {
            "symbol": symbol,
            "bidPrice": fmt(book.best_bid),
            "bidQty": fmt(book.bids[0][1] if book.bids else None),
            "askPrice": fmt(book.best_ask),
            "askQty": fmt(book.asks[0][1] if book.asks else None),
        }

    def book_ticker(self, p: Params) -> Reply:
        symbols, single = self._symbols(p)
        with self.engine.lock:
            rows = [self._book_ticker(s) for s in symbols]
        return 200, rows[0] if single else rows

    def ticker_24hr(self, p: Params) -> Reply:
        symbols, single = self._symbols(p)
        now = self.now_ms()
        rows = []
        with self.engine.lock:
            for s in symbols:
                row = self._book_ticker(s)
                last = self.engine.books[s].last or self.engine.books[s].reference_price()
                row.update(
                    {
                        "priceChange": fmt(Decimal(0)),
                        "priceChangePercent": "0.000",
                        "weightedAvgPrice": fmt(last),
                        "prevClosePrice": fmt(last),
                        "lastPrice": fmt(last),
                        "lastQty": fmt(Decimal(0)),
                        "openPrice": fmt(last),
                        "highPrice": fmt(last),
                        "lowPrice": fmt(last),
                        "volume": fmt(Decimal(0)),
                        "quoteVolume": fmt(Decimal(0)),
                        "openTime": now - 86_400_000,
                        "closeTime": now,
                        "firstId": -1,
                        "lastId": -1,
                        "count": 0,
                    }
                )
                rows.append(row)
        return 200, rows[0] if single else rows

    def ticker_price(self, p: Params) -> Reply:
        symbols, single = self._symbols(p)
        with self.engine.lock:
            rows = [
                {
                    "symbol": s,
                    "price": fmt(
                        self.engine.books[s].last or self.engine.books[s].reference_price()
                    ),
                }
                for s in symbols
            ]
        return 200, rows[0] if single else rows

    def depth(self, p: Params) -> Reply:
        spec = self.engine.spec(p.get("symbol", ""))
        limit = min(int(p.get("limit", 100)), 5000)
        with self.engine.lock:
            book = self.engine.books[spec.symbol]
            return 200, {
                "lastUpdateId": self.now_ms(),
                "bids": [[fmt(px), fmt(q)] for px, q in book.bids[:limit]],
                "asks": [[fmt(px), fmt(q)] for px, q in book.asks[:limit]],
            }

    def klines(self, p: Params) -> Reply:
        """See klines.py: flat candles at the reference price, or the synthetic history."""
        spec = self.engine.spec(p.get("symbol", ""))

        def reference() -> Decimal | None:
            if self.candles == "synthetic":
                return spec.default_bid
            with self.engine.lock:
                return self.engine.books[spec.symbol].reference_price()

        return klines(p, self.now_ms(), self.candles, spec.symbol, reference)

    # ---- signed ----------------------------------------------------------------------------

    def create_order(self, p: Params) -> Reply:
        order = self.engine.place_order(p, self.now_ms())
        resp_type = p.get("newOrderRespType", "FULL").upper()
        if resp_type == "ACK":
            return 200, order.as_ack()
        return 200, order.as_result(with_fills=resp_type == "FULL")

    def cancel_replace(self, p: Params) -> Reply:
        canceled, cancel_id, new = cancel_replace(self.engine, p, self.now_ms())
        resp_type = p.get("newOrderRespType", "FULL").upper()
        new_body = new.as_ack() if resp_type == "ACK" else new.as_result(resp_type == "FULL")
        return 200, {
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": canceled.as_cancel(cancel_id, self.now_ms()),
            "newOrderResponse": new_body,
        }

    def test_order(self, p: Params) -> Reply:
        self.engine.spec(p.get("symbol", ""))
        return 200, {}

    def get_order(self, p: Params) -> Reply:
        return 200, self.engine.get_order(p).as_query()

    def cancel_order(self, p: Params) -> Reply:
        order, cancel_id = self.engine.cancel_order(p, self.now_ms())
        return 200, order.as_cancel(cancel_id, self.now_ms())

    def open_orders(self, p: Params) -> Reply:
        return 200, [o.as_query() for o in self.engine.open_orders(p.get("symbol"))]

    def cancel_open_orders(self, p: Params) -> Reply:
        replies = []
        for order in self.engine.open_orders(p.get("symbol") or None):
            params = {"symbol": order.symbol, "orderId": str(order.order_id)}
            canceled, cancel_id = self.engine.cancel_order(params, self.now_ms())
            replies.append(canceled.as_cancel(cancel_id, self.now_ms()))
        return 200, replies

    def all_orders(self, p: Params) -> Reply:
        return 200, [o.as_query() for o in self.engine.all_orders(p)]

    def my_trades(self, p: Params) -> Reply:
        return 200, [t.as_my_trade() for t in self.engine.my_trades(p)]

    def account(self, p: Params) -> Reply:
        balances = self.engine.account_balances()
        if p.get("omitZeroBalances") == "true":
            balances = [b for b in balances if Decimal(b["free"]) or Decimal(b["locked"])]
        fee = f"{self.engine.fee_rate:f}"
        return 200, {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": fee, "taker": fee, "buyer": "0", "seller": "0"},
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": 1,
        }
