"""`EmulatorHandle`: a running emulator plus helpers that drive its control endpoints."""

from __future__ import annotations

import json
import urllib.request
from decimal import Decimal
from typing import Any

from tests.emulator.server import EmulatorServer


class EmulatorHandle:
    """What the `emulator` fixture yields. Helpers go through the HTTP control endpoints, the
    same path a standalone emulator is scripted through."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url
        self.api_key = server.api_key
        self.api_secret = server.api_secret

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload, default=str).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def set_market(
        self,
        symbol: str,
        bid: Decimal | str | None,
        ask: Decimal | str | None,
        **options: Any,
    ) -> None:
        """Script the book: `levels`, `qty` (base per level), `gap` (price step), `last`."""
        self._call("POST", "/_emu/market", {"symbol": symbol, "bid": bid, "ask": ask, **options})

    def set_levels(
        self,
        symbol: str,
        bids: list[tuple[Any, Any]],
        asks: list[tuple[Any, Any]],
        last: Decimal | str | None = None,
    ) -> None:
        """Script exact levels as (price, qty) pairs."""
        payload: dict[str, Any] = {"symbol": symbol, "bids": bids, "asks": asks}
        if last is not None:
            payload["last"] = last
        self._call("POST", "/_emu/market", payload)

    def set_balances(self, **amounts: Decimal | str) -> None:
        self._call("POST", "/_emu/balances", amounts)

    def add_fault(self, kind: str, **options: Any) -> None:
        """See tests/emulator/faults.py for `kind` and options (method, path, params, times,
        delay, status, retry_after, accept)."""
        self._call("POST", "/_emu/faults", {"kind": kind, **options})

    def end_order(self, symbol: str, client_order_id: str, status: str = "CANCELED") -> Any:
        """The venue itself cancels (or expires) an open order: no signed request, no daemon."""
        return self._call(
            "POST",
            "/_emu/cancel",
            {"symbol": symbol, "clientOrderId": client_order_id, "status": status},
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emu/faults")

    def configure(self, **options: Any) -> None:
        """time_offset_ms, fee_rate, unique_client_ids ("open" | "all")."""
        self._call("POST", "/_emu/config", options)

    def reset(self) -> None:
        self._call("POST", "/_emu/reset")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/_emu/state")

    def order_creates(self, client_order_id: str) -> int:
        """How many POST /api/v3/order requests carried this newClientOrderId."""
        return int(self.state()["order_creates"].get(client_order_id, 0))

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.state()["requests"]
            if (method is None or r["method"] == method) and (path is None or r["path"] == path)
        ]

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """(free, locked) as the emulator holds them."""
        row = self.state()["balances"].get(asset, {"free": "0", "locked": "0"})
        return Decimal(row["free"]), Decimal(row["locked"])

    def stop(self) -> None:
        self.server.stop()


def start_emulator(**kwargs: Any) -> EmulatorHandle:
    """Start an emulator on a free loopback port (kwargs go to `EmulatorServer`)."""
    return EmulatorHandle(EmulatorServer(**kwargs).start())
