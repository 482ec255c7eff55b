"""Offline fakes of bybit and okx spot under a real ccxt client (no network).

Each fake replaces the client's `fetch` (the one HTTP call every ccxt request goes through,
after signing), logs the request and answers from a small in-memory venue. Error replies go
through ccxt's own `handle_errors`, so exceptions are the real ccxt mapping. The venues model
only what the stop-order paths touch, in the shapes of the venues' API docs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from exchanges.ccxt.adapter import CcxtExchange
from exchanges.retry import RetryPolicy

T0_MS = 1_764_590_400_000


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


def _market(exchange_id: str) -> dict[str, Any]:
    market_id = "BTC-USDT" if exchange_id == "okx" else "BTCUSDT"
    return {
        "id": market_id,
        "symbol": "BTC/USDT",
        "base": "BTC",
        "quote": "USDT",
        "baseId": "BTC",
        "quoteId": "USDT",
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "linear": None,
        "inverse": None,
        "active": True,
        "precision": {"amount": 0.00001, "price": 0.01},
        "limits": {"amount": {"min": 0.00001, "max": 9000}, "cost": {"min": 5}},
        "maker": 0.001,
        "taker": 0.001,
        "info": {},
    }


@dataclass
class FakeVenue:
    """Base: the request log and the ccxt plumbing. Subclasses implement `answer`."""

    exchange_id: str
    requests: list[Request] = field(default_factory=list)
    bid: str = "50000"
    ask: str = "50010"
    last: str = "50000"
    ids: count[int] = field(default_factory=lambda: count(1))

    def adapter(self) -> CcxtExchange:
        adapter = CcxtExchange(
            self.exchange_id,
            "testnet",
            "key",
            "secret",
            "pass",
            enable_rate_limit=False,
            retry_policy=RetryPolicy(max_attempts=1),
        )
        client = adapter.client
        client.options["enableUnifiedAccount"] = True  # bybit: skip the account-type query
        client.options["enableUnifiedMargin"] = False
        markets = {"BTC/USDT": _market(self.exchange_id)}

        async def load_markets(reload: bool = False, params: Any = None) -> dict[str, Any]:
            client.set_markets(list(markets.values()))
            return client.markets  # type: ignore[no-any-return]

        async def fetch(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            split = urlsplit(url)
            parsed = json.loads(body) if body else None
            request = Request(method, split.path, dict(parse_qsl(split.query)), parsed)
            self.requests.append(request)
            status, reply = self.answer(request)
            text = json.dumps(reply)
            client.handle_errors(status, "", url, method, {}, text, reply, headers, body)
            return reply

        client.load_markets = load_markets
        client.fetch = fetch
        client.timeout_on_exit = 0  # no TLS session to wind down
        return adapter

    def answer(self, request: Request) -> tuple[int, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]


# ---- bybit -------------------------------------------------------------------------------


@dataclass
class FakeBybit(FakeVenue):
    """Bybit v5 spot: plain orders and TP/SL orders (orderFilter=tpslOrder), which plain
    queries and cancels do not see (the adapter must ask for them)."""

    exchange_id: str = "bybit"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def ok(result: Any) -> tuple[int, Any]:
        return 200, {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": T0_MS,
        }

    @staticmethod
    def not_found() -> tuple[int, Any]:
        return 200, {"retCode": 110001, "retMsg": "Order does not exist", "result": {}}

    def answer(self, r: Request) -> tuple[int, Any]:
        q = {**r.query, **(r.body or {})}
        if r.path == "/v5/market/tickers":
            row = {"symbol": "BTCUSDT", "bid1Price": self.bid, "ask1Price": self.ask}
            return self.ok({"category": "spot", "list": [{**row, "lastPrice": self.last}]})
        if r.path == "/v5/order/create":
            oid = str(next(self.ids))
            kind = q.get("orderFilter", "Order")
            self.orders[q["orderLinkId"]] = {
                "orderId": oid,
                "orderLinkId": q["orderLinkId"],
                "symbol": "BTCUSDT",
                "side": q["side"],
                "orderType": q["orderType"],
                "price": q.get("price", "0"),
                "qty": q["qty"],
                "triggerPrice": q.get("triggerPrice", "0"),
                "orderStatus": "Untriggered" if kind == "tpslOrder" else "New",
                "stopOrderType": "tpslOrder" if kind == "tpslOrder" else "",
                "orderFilter": kind,
                "cumExecQty": "0",
                "cumExecFee": "0",
                "avgPrice": "",
                "timeInForce": "GTC",
                "createdTime": str(T0_MS),
                "updatedTime": str(T0_MS),
            }
            return self.ok({"orderId": oid, "orderLinkId": q["orderLinkId"]})
        if r.path in ("/v5/order/realtime", "/v5/order/history"):
            wanted_open = r.path == "/v5/order/realtime"
            rows = [
                o
                for o in self.orders.values()
                if o["orderFilter"] == q.get("orderFilter", "Order")
                and q.get("orderLinkId", o["orderLinkId"]) == o["orderLinkId"]
                and (o["orderStatus"] in ("New", "Untriggered", "PartiallyFilled")) == wanted_open
            ]
            return self.ok({"category": "spot", "list": rows, "nextPageCursor": ""})
        if r.path == "/v5/order/cancel":
            order = self.orders.get(q.get("orderLinkId", ""))
            if order is None or order["orderFilter"] != q.get("orderFilter", "Order"):
                return self.not_found()
            waiting = order["orderStatus"] == "Untriggered"
            order["orderStatus"] = "Deactivated" if waiting else "Cancelled"
            return self.ok({"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]})
        if r.path == "/v5/order/amend":
            order = next(
                (o for o in self.orders.values() if o["orderId"] == q.get("orderId")), None
            )
            if order is None:
                return self.not_found()
            for key in ("triggerPrice", "price", "qty"):
                if key in q:
                    order[key] = q[key]
            return self.ok({"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]})
        if r.path == "/v5/execution/list":
            return self.ok({"category": "spot", "list": self.executions, "nextPageCursor": ""})
        return 200, {"retCode": 10001, "retMsg": f"fake has no {r.path}", "result": {}}

    def fill(self, cid: str, price: str) -> None:
        """The stop triggers and fills completely at `price`."""
        order = self.orders[cid]
        order.update(orderStatus="Filled", cumExecQty=order["qty"], avgPrice=price)
        self.executions.append(
            {
                "symbol": "BTCUSDT",
                "orderId": order["orderId"],
                "orderLinkId": cid,
                "side": order["side"],
                "execId": f"e{len(self.executions) + 1}",
                "execPrice": price,
                "execQty": order["qty"],
                "execFee": "0.1",
                "feeCurrency": "USDT",
                "execTime": str(T0_MS + 1000),
                "isMaker": False,
                "orderType": "Limit",
                "stopOrderType": "tpslOrder",
            }
        )


# ---- okx ---------------------------------------------------------------------------------


@dataclass
class FakeOkx(FakeVenue):
    """OKX v5 spot: regular orders and 'trigger' algo orders (algoClOrdId); a triggered algo
    becomes 'effective' and its fills belong to a regular child order."""

    exchange_id: str = "okx"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ordId
    algos: dict[str, dict[str, Any]] = field(default_factory=dict)  # by algoClOrdId
    fills: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def ok(data: list[Any]) -> tuple[int, Any]:
        return 200, {"code": "0", "msg": "", "data": data}

    @staticmethod
    def not_found() -> tuple[int, Any]:
        return 200, {"code": "51603", "msg": "Order does not exist", "data": []}

    def answer(self, r: Request) -> tuple[int, Any]:
        q = {**r.query, **(r.body if isinstance(r.body, dict) else {})}
        if r.path == "/api/v5/market/ticker":
            row = {"instId": "BTC-USDT", "bidPx": self.bid, "askPx": self.ask, "last": self.last}
            return self.ok([{**row, "ts": str(T0_MS)}])
        if r.path == "/api/v5/trade/order-algo" and r.method == "POST":
            algo_id = f"a{next(self.ids)}"
            self.algos[q["algoClOrdId"]] = {
                "algoId": algo_id,
                "algoClOrdId": q["algoClOrdId"],
                "clOrdId": "",
                "instId": "BTC-USDT",
                "instType": "SPOT",
                "ordType": q["ordType"],
                "side": q["side"],
                "sz": q["sz"],
                "triggerPx": q["triggerPx"],
                "orderPx": q["orderPx"],
                "ordPx": q["orderPx"],
                "tdMode": q["tdMode"],
                "state": "live",
                "ordId": "",
                "cTime": str(T0_MS),
                "uTime": str(T0_MS),
            }
            row = {"algoId": algo_id, "algoClOrdId": q["algoClOrdId"], "clOrdId": ""}
            return self.ok([{**row, "sCode": "0", "sMsg": ""}])
        if r.path == "/api/v5/trade/order-algo":
            algo = self.algos.get(q.get("algoClOrdId", ""))
            return self.ok([algo]) if algo else self.not_found()
        if r.path == "/api/v5/trade/order":
            order = (
                self.orders.get(q["ordId"])
                if "ordId" in q
                else next(
                    (o for o in self.orders.values() if o["clOrdId"] == q.get("clOrdId")), None
                )
            )
            return self.ok([order]) if order else self.not_found()
        if r.path == "/api/v5/trade/cancel-order":
            return 200, {
                "code": "1",
                "msg": "",
                "data": [{"sCode": "51400", "sMsg": "Order does not exist", "ordId": ""}],
            }
        if r.path == "/api/v5/trade/cancel-algos":
            rows = []
            for item in r.body:
                algo = self.algos[item["algoClOrdId"]]
                algo["state"] = "canceled"
                rows.append({"algoId": algo["algoId"], "sCode": "0", "sMsg": ""})
            return self.ok(rows)
        if r.path == "/api/v5/trade/amend-algos":
            algo = next(a for a in self.algos.values() if a["algoId"] == q["algoId"])
            algo.update(triggerPx=q["newTriggerPx"], orderPx=q["newOrdPx"], ordPx=q["newOrdPx"])
            if "newSz" in q:
                algo["sz"] = q["newSz"]
            return self.ok([{"algoId": algo["algoId"], "sCode": "0", "sMsg": ""}])
        if r.path == "/api/v5/trade/orders-pending":
            return self.ok([o for o in self.orders.values() if o["state"] == "live"])
        if r.path == "/api/v5/trade/orders-algo-pending":
            return self.ok([a for a in self.algos.values() if a["state"] == "live"])
        if r.path in ("/api/v5/trade/fills", "/api/v5/trade/fills-history"):
            return self.ok(self.fills)
        return 200, {"code": "50000", "msg": f"fake has no {r.path}", "data": []}

    def fill(self, cid: str, price: str) -> None:
        """The algo triggers; its child order fills completely at `price`."""
        algo = self.algos[cid]
        child = f"o{next(self.ids)}"
        algo.update(state="effective", ordId=child)
        fee = str(-(Decimal(algo["sz"]) * Decimal(price) * Decimal("0.001")))
        self.orders[child] = {
            "ordId": child,
            "clOrdId": "",
            "algoClOrdId": cid,
            "algoId": algo["algoId"],
            "instId": "BTC-USDT",
            "instType": "SPOT",
            "ordType": "limit",
            "side": algo["side"],
            "sz": algo["sz"],
            "px": algo["orderPx"],
            "accFillSz": algo["sz"],
            "avgPx": price,
            "state": "filled",
            "fee": fee,
            "feeCcy": "USDT",
            "cTime": str(T0_MS + 1000),
            "uTime": str(T0_MS + 1000),
        }
        self.fills.append(
            {
                "instId": "BTC-USDT",
                "instType": "SPOT",
                "tradeId": f"t{len(self.fills) + 1}",
                "ordId": child,
                "clOrdId": "",
                "side": algo["side"],
                "fillPx": price,
                "fillSz": algo["sz"],
                "fee": fee,
                "feeCcy": "USDT",
                "execType": "T",
                "ts": str(T0_MS + 1000),
                "billId": "b1",
            }
        )
