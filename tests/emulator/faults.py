"""Fault injection: what the next matching request(s) suffer.

A fault is posted to /_emu/faults as JSON:
    {"kind": "latency" | "timeout" | "drop" | "status" | "malformed",
     "method": "POST", "path": "/api/v3/order",   # both optional: omitted = any
     "params": {"type": "STOP_LOSS_LIMIT"},        # optional: request parameters that must match
     "times": 1,                                   # how many requests it hits; null = forever
     "skip": 0,                                    # matching requests let through first
     "delay": 0.5,                                 # seconds (latency, timeout)
     "status": 429, "retry_after": "1",            # for kind "status"
     "code": -1121, "msg": "Invalid symbol.",      # status: this Binance error body instead
     "accept": true}                               # run the request before misbehaving?

- latency: wait `delay`, then answer normally.
- timeout: process the request (the order IS recorded), then hold the reply `delay` seconds
  (default 30), past any sane client timeout.
- drop: process (if `accept`, default true), then close the connection without a reply.
- status: answer `status` with a Binance-style body and the Retry-After header when given,
  without processing (unless `accept`).
- malformed: process (default), then answer 200 with a truncated JSON body.
Faults are matched first-posted first; control endpoints (/_emu/...) are never faulted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    LATENCY = "latency"
    TIMEOUT = "timeout"
    DROP = "drop"
    STATUS = "status"
    MALFORMED = "malformed"


_ACCEPT_BY_DEFAULT = {
    FaultKind.LATENCY: True,
    FaultKind.TIMEOUT: True,
    FaultKind.DROP: True,
    FaultKind.STATUS: False,
    FaultKind.MALFORMED: True,
}


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int | None = 1  # None: every matching request
    delay: float = 0.0
    status: int = 500
    retry_after: str | None = None
    accept: bool = False
    params: dict[str, str] | None = None
    skip: int = 0
    code: int | None = None
    msg: str | None = None
    hits: int = 0
    passed: int = 0

    def matches(self, method: str, path: str, params: dict[str, str] | None = None) -> bool:
        wanted = self.params or {}
        given = params or {}
        return (
            (self.method is None or self.method == method)
            and (self.path is None or self.path == path)
            and all(given.get(k, "").upper() == v.upper() for k, v in wanted.items())
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "delay": self.delay,
            "status": self.status,
            "retry_after": self.retry_after,
            "accept": self.accept,
            "params": self.params,
            "skip": self.skip,
            "code": self.code,
            "msg": self.msg,
            "hits": self.hits,
        }


def fault_from_json(payload: dict[str, Any]) -> Fault:
    kind = FaultKind(payload["kind"])
    default_delay = 30.0 if kind is FaultKind.TIMEOUT else 0.0
    retry_after = payload.get("retry_after")
    return Fault(
        kind=kind,
        method=payload.get("method") and str(payload["method"]).upper(),
        path=payload.get("path"),
        times=payload.get("times", 1),
        delay=float(payload.get("delay", default_delay)),
        status=int(payload.get("status", 500)),
        retry_after=None if retry_after is None else str(retry_after),
        accept=bool(payload.get("accept", _ACCEPT_BY_DEFAULT[kind])),
        params={str(k): str(v) for k, v in payload["params"].items()}
        if payload.get("params")
        else None,
        skip=int(payload.get("skip", 0)),
        code=None if payload.get("code") is None else int(payload["code"]),
        msg=None if payload.get("msg") is None else str(payload["msg"]),
    )


def status_body(status: int) -> dict[str, Any]:
    """Binance's bodies for throttling and server errors."""
    if status == 429:
        return {
            "code": -1003,
            "msg": "Too many requests; current limit of IP is 6000 requests per minute.",
        }
    if status == 418:
        return {"code": -1003, "msg": "Way too many requests; IP banned."}
    return {"code": -1001, "msg": "Internal error; unable to process your request."}


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, params: dict[str, str] | None = None) -> Fault | None:
        """The first armed fault matching this request, counting the hit."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, params):
                    if fault.passed < fault.skip:
                        fault.passed += 1
                        continue
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]
