"""HTTP front of the emulator: a ThreadingHTTPServer on loopback.

Control endpoints (JSON in, JSON out; never faulted, never signed):
    GET    /_emu/state     orders, trades, balances, books, request log, create counts (orders
                           and cancelReplace placements by newClientOrderId), faults
    POST   /_emu/market    {symbol, bid, ask, levels?, qty?, gap?, last?} or {symbol, bids, asks}
    POST   /_emu/balances  {"USDT": "1000", ...}  sets free balances
    POST   /_emu/cancel    {symbol, clientOrderId, status?: "CANCELED" | "EXPIRED"}: the venue
                           ends an open order itself (an account event, maintenance, a person)
    POST   /_emu/faults    one fault or a list (see faults.py);  DELETE /_emu/faults clears
    POST   /_emu/config    {time_offset_ms?, fee_rate?, unique_client_ids?: "open" | "all",
                           candles?: "flat" | "synthetic" (klines.py)}
    POST   /_emu/reset     back to the initial state
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter, deque
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulator.engine import Engine
from tests.emulator.faults import Fault, FaultBook, FaultKind, fault_from_json, status_body
from tests.emulator.klines import CANDLE_MODES, KLINES_WEIGHT
from tests.emulator.records import BinanceError
from tests.emulator.routes import Routes, check_auth

DEFAULT_API_KEY = "emu-key"
DEFAULT_API_SECRET = "emu-secret"
ORDER_PATH = "/api/v3/order"
REPLACE_PATH = "/api/v3/order/cancelReplace"
# Binance's request weights for the endpoints that cost more than 1 (exchangeInfo, depth <= 100)
REQUEST_WEIGHTS = {"/api/v3/klines": KLINES_WEIGHT, "/api/v3/exchangeInfo": 20, "/api/v3/depth": 5}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive handler threads must not hold up shutdown
    emulator: EmulatorServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing a keep-alive connection (or giving up mid-reply) is routine here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """The emulator: `start()` serves on a background thread, `stop()` ends it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.engine = Engine()
        self.faults = FaultBook()
        self.time_offset_ms = 0
        self.stopping = threading.Event()
        self._log_lock = threading.Lock()
        self.requests: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.order_creates: Counter[str] = Counter()
        self._weight_minute, self._weight_used = 0, 0
        self.routes = Routes(self.engine, self.now_ms)
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.time_offset_ms

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="exchange-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self.engine.reset()
        self.engine.unique_client_ids = "open"
        self.engine.fee_rate = Decimal("0.001")
        self.faults.clear()
        self.time_offset_ms = 0
        self.routes.candles = "flat"
        with self._log_lock:
            self.requests.clear()
            self.order_creates.clear()

    # ---- venue API -------------------------------------------------------------------------

    def record(
        self, method: str, path: str, params: dict[str, str], fault: Fault | None = None
    ) -> dict[str, Any]:
        """Log one venue request; `fault` names what it suffered, if anything."""
        entry: dict[str, Any] = {"method": method, "path": path, "time": self.now_ms()}
        for key in ("symbol", "interval", "startTime", "endTime", "limit"):
            if key in params:
                entry[key] = params[key]
        if fault is not None:
            entry["fault"] = str(fault.kind)
        if method == "POST" and path in (ORDER_PATH, REPLACE_PATH):
            client_id = params.get("newClientOrderId", "")
            entry["client_order_id"] = client_id
            entry["side"] = params.get("side", "").upper()
            entry["type"] = params.get("type", "").upper()
            with self._log_lock:
                self.order_creates[client_id] += 1
        with self._log_lock:
            self.requests.append(entry)
        return entry

    def dispatch(
        self,
        method: str,
        path: str,
        raw_query: str,
        raw_body: str,
        headers: dict[str, str],
        fault: Fault | None = None,
    ) -> tuple[int, Any]:
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(raw_body, keep_blank_values=True))
        params.pop("signature", None)
        entry = self.record(method, path, params, fault)
        try:
            route = self.routes.public.get((method, path))
            if route is None:
                route = self.routes.signed.get((method, path))
                if route is None:
                    entry["status"] = 404
                    return 404, {"code": -1, "msg": f"emulator has no {method} {path}"}
                check_auth(
                    api_key=self.api_key,
                    api_secret=self.api_secret,
                    headers=headers,
                    raw_query=raw_query,
                    raw_body=raw_body,
                    params=params,
                    now_ms=self.now_ms(),
                )
            status, body = route(params)
        except BinanceError as exc:
            status, body = exc.status, exc.body()
        except (ValueError, KeyError) as exc:
            status, body = 400, {"code": -1100, "msg": f"Illegal parameter: {exc}"}
        entry["status"] = status
        if status >= 400 and isinstance(body, dict):
            entry["code"], entry["msg"] = body.get("code"), body.get("msg")
            new = (body.get("data") or {}).get("newOrderResponse")
            if isinstance(new, dict) and "code" in new:  # a cancelReplace's refused new order
                entry["new_code"], entry["new_msg"] = new.get("code"), new.get("msg")
        return status, body

    def weight_headers(self, path: str) -> dict[str, str]:
        """Binance's X-MBX-USED-WEIGHT-1M: request weight used in the current minute."""
        minute = self.now_ms() // 60_000
        with self._log_lock:
            if self._weight_minute != minute:
                self._weight_minute, self._weight_used = minute, 0
            self._weight_used += REQUEST_WEIGHTS.get(path, 1)
            used = self._weight_used
        return {"X-MBX-USED-WEIGHT-1M": str(used)}

    # ---- control ---------------------------------------------------------------------------

    def control(self, method: str, path: str, raw_body: str) -> tuple[int, Any]:
        payload: Any = json.loads(raw_body) if raw_body else {}
        if (method, path) == ("GET", "/_emu/state"):
            return 200, self.state()
        if (method, path) == ("POST", "/_emu/market"):
            for item in payload if isinstance(payload, list) else [payload]:
                self.engine.set_market(item, self.now_ms())
            return 200, {"ok": True}
        if (method, path) == ("POST", "/_emu/cancel"):
            order = self.engine.end_order(
                str(payload["symbol"]),
                str(payload["clientOrderId"]),
                str(payload.get("status", "CANCELED")),
                self.now_ms(),
            )
            return 200, order.as_query()
        if (method, path) == ("POST", "/_emu/balances"):
            self.engine.set_balances({k: Decimal(str(v)) for k, v in payload.items()})
            return 200, {"ok": True}
        if (method, path) == ("POST", "/_emu/faults"):
            for item in payload if isinstance(payload, list) else [payload]:
                self.faults.add(fault_from_json(item))
            return 200, {"faults": self.faults.as_json()}
        if (method, path) == ("DELETE", "/_emu/faults"):
            self.faults.clear()
            return 200, {"faults": []}
        if (method, path) == ("POST", "/_emu/config"):
            self.time_offset_ms = int(payload.get("time_offset_ms", self.time_offset_ms))
            if "fee_rate" in payload:
                self.engine.fee_rate = Decimal(str(payload["fee_rate"]))
            if "unique_client_ids" in payload:
                if payload["unique_client_ids"] not in ("open", "all"):
                    return 400, {"error": "unique_client_ids must be 'open' or 'all'"}
                self.engine.unique_client_ids = payload["unique_client_ids"]
            if "candles" in payload:
                if payload["candles"] not in CANDLE_MODES:
                    return 400, {"error": f"candles must be one of {CANDLE_MODES}"}
                self.routes.candles = payload["candles"]
            return 200, {"ok": True}
        if (method, path) == ("POST", "/_emu/reset"):
            self.reset()
            return 200, {"ok": True}
        return 404, {"error": f"no control endpoint {method} {path}"}

    def state(self) -> dict[str, Any]:
        snapshot = self.engine.snapshot()
        with self._log_lock:
            snapshot["requests"] = list(self.requests)
            snapshot["order_creates"] = dict(self.order_creates)
        snapshot["faults"] = self.faults.as_json()
        snapshot["config"] = {
            "time_offset_ms": self.time_offset_ms,
            "fee_rate": f"{self.engine.fee_rate:f}",
            "unique_client_ids": self.engine.unique_client_ids,
            "candles": self.routes.candles,
        }
        return snapshot


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # replies go out in two writes; no 40 ms delayed-ACK stalls
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log in /_emu/state is the record."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length).decode() if length else ""
        if split.path.startswith("/_emu/"):
            try:
                status, body = emu.control(method, split.path, raw_body)
            except (ValueError, KeyError, TypeError, BinanceError) as exc:
                status, body = 400, {"error": repr(exc)}
            self._send(status, json.dumps(body))
            return
        request_params = dict(parse_qsl(split.query + "&" + raw_body))
        fault = emu.faults.take(method, split.path, request_params)
        reply: tuple[int, Any] | None = None
        if fault is not None and fault.kind is FaultKind.LATENCY:
            emu.stopping.wait(fault.delay)
        if fault is None or fault.accept or fault.kind is FaultKind.LATENCY:
            headers = {k: v for k, v in self.headers.items()}
            reply = emu.dispatch(method, split.path, split.query, raw_body, headers, fault)
        else:
            emu.record(method, split.path, request_params, fault)["status"] = fault.status
        if fault is None or fault.kind is FaultKind.LATENCY:
            assert reply is not None
            self._send(reply[0], json.dumps(reply[1]), emu.weight_headers(split.path))
            return
        self._misbehave(fault, reply)

    def _misbehave(self, fault: Fault, reply: tuple[int, Any] | None) -> None:
        emu = self.server.emulator
        if fault.kind is FaultKind.TIMEOUT:
            emu.stopping.wait(fault.delay)
            status, body = reply if reply is not None else (503, status_body(503))
            self._send(status, json.dumps(body))
        elif fault.kind is FaultKind.DROP:
            self.close_connection = True  # no status line at all: the client sees EOF
        elif fault.kind is FaultKind.STATUS:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = status_body(fault.status)
            if fault.code is not None:
                body = {"code": fault.code, "msg": fault.msg or ""}
            self._send(fault.status, json.dumps(body), extra)
        else:  # MALFORMED
            text = json.dumps(reply[1]) if reply is not None else '{"code": 0, "msg": "ok"}'
            self._send(200, text[: max(1, len(text) // 2)])

    def _send(self, status: int, text: str, extra: dict[str, str] | None = None) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out) first
