"""The loopback Binance emulator with what the fault campaign needs on top of its fault book.

- Every venue request is stamped with the wall time and the campaign phase it fell in, so
  request rates (backoff under 429/418) can be measured per phase.
- Replies can lose fields: `drop_fields(method, path, fields, times)` strips the named keys
  from the next `times` successful JSON replies of that endpoint (from the object itself and
  from each object of a list, and from `balances` / `fills` entries), after the request was
  processed, the way a venue's schema change or a half-deployed release looks to a client.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.emulator.client import EmulatorHandle
from tests.emulator.faults import Fault
from tests.emulator.server import EmulatorServer

_NESTED = ("balances", "fills")


@dataclass
class FieldDrop:
    method: str
    path: str
    fields: tuple[str, ...]
    times: int
    hits: int = 0


def strip_fields(body: Any, fields: tuple[str, ...]) -> Any:
    """`body` without `fields`, at the top level and one level into lists and known arrays."""
    if isinstance(body, list):
        return [strip_fields(item, fields) for item in body]
    if not isinstance(body, dict):
        return body
    out = {k: v for k, v in body.items() if k not in fields}
    for key in _NESTED:
        if isinstance(out.get(key), list):
            out[key] = [strip_fields(item, fields) for item in out[key]]
    return out


class FaultyEmulatorServer(EmulatorServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.phase = "start"
        self._extra_lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.drops: list[FieldDrop] = []
        self.drop_hits: dict[str, int] = {}
        self._current = threading.local()  # the entry of the request this thread serves

    def record(
        self, method: str, path: str, params: dict[str, str], fault: Fault | None = None
    ) -> dict[str, Any]:
        entry = super().record(method, path, params, fault)
        entry["wall"] = time.time()
        entry["phase"] = self.phase
        with self._extra_lock:
            self.log.append(entry)
        self._current.entry = entry
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
        status, body = super().dispatch(method, path, raw_query, raw_body, headers, fault)
        if status != 200:
            return status, body
        with self._extra_lock:
            drop = next(
                (d for d in self.drops if d.method == method and d.path == path and d.times), None
            )
            if drop is None:
                return status, body
            drop.times -= 1
            drop.hits += 1
            self.drop_hits[self.phase] = self.drop_hits.get(self.phase, 0) + 1
        self._current.entry["fault"] = "missing_fields"
        return status, strip_fields(body, drop.fields)

    def drop_fields(self, method: str, path: str, fields: tuple[str, ...], times: int) -> None:
        with self._extra_lock:
            self.drops.append(FieldDrop(method, path, fields, times))

    def clear_drops(self) -> None:
        with self._extra_lock:
            self.drops.clear()

    def entries(self, phase: str | None = None) -> list[dict[str, Any]]:
        with self._extra_lock:
            return [dict(e) for e in self.log if phase is None or e["phase"] == phase]


def start_faulty_emulator() -> tuple[FaultyEmulatorServer, EmulatorHandle]:
    server = FaultyEmulatorServer()
    server.start()
    return server, EmulatorHandle(server)
