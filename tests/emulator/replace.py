"""POST /api/v3/order/cancelReplace: cancel an order and place a new one in one request.

As on Binance: with cancelReplaceMode=STOP_ON_FAILURE a failed cancel places nothing (-2022,
HTTP 400); a placement that fails after the cancel leaves no order (-2021, HTTP 409). Either
way `data` reports both halves (cancelResult, newOrderResult, cancelResponse, newOrderResponse).
ALLOW_FAILURE attempts the placement even when the cancel failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.emulator.engine import Engine, mandatory
from tests.emulator.records import BinanceError, EmuOrder

_CANCEL_KEYS = ("cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId")


def cancel_replace(
    engine: Engine, params: Mapping[str, str], now_ms: int
) -> tuple[EmuOrder, str, EmuOrder]:
    """(the canceled order, the cancel's own client id, the new order), or BinanceError."""
    with engine.lock:
        mode = mandatory(params, "cancelReplaceMode").upper()
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            raise BinanceError(-1100, "Illegal characters found in parameter 'cancelReplaceMode'.")
        cancel_params = {
            "symbol": params.get("symbol", ""),
            "orderId": params.get("cancelOrderId", ""),
            "origClientOrderId": params.get("cancelOrigClientOrderId", ""),
            "newClientOrderId": params.get("cancelNewClientOrderId", ""),
        }
        canceled: tuple[EmuOrder, str] | None = None
        cancel_error: BinanceError | None = None
        try:
            canceled = engine.cancel_order(cancel_params, now_ms)
        except BinanceError as exc:
            cancel_error = exc
        if cancel_error is not None and mode == "STOP_ON_FAILURE":
            raise replace_error(cancel_error.body(), None, "NOT_ATTEMPTED")
        new_params = {
            k: v for k, v in params.items() if k not in (*_CANCEL_KEYS, "cancelReplaceMode")
        }
        cancel_body = (
            canceled[0].as_cancel(canceled[1], now_ms)
            if canceled is not None
            else (cancel_error.body() if cancel_error is not None else None)
        )
        try:
            new = engine.place_order(new_params, now_ms)
        except BinanceError as exc:
            raise replace_error(
                cancel_body, exc.body(), "FAILURE", cancel_ok=canceled is not None
            ) from exc
        if canceled is None:
            raise replace_error(cancel_body, new.as_result(with_fills=False), "SUCCESS")
        return canceled[0], canceled[1], new


def replace_error(
    cancel: dict[str, Any] | None,
    new: dict[str, Any] | None,
    new_result: str,
    *,
    cancel_ok: bool = False,
) -> BinanceError:
    """-2022 when nothing succeeded, -2021 (HTTP 409) when one half did."""
    cancel_result = "SUCCESS" if cancel_ok else "FAILURE"
    data = {
        "cancelResult": cancel_result,
        "newOrderResult": new_result,
        "cancelResponse": cancel,
        "newOrderResponse": new,
    }
    if cancel_result == "FAILURE" and new_result != "SUCCESS":
        return BinanceError(-2022, "Order cancel-replace failed.", status=400, data=data)
    return BinanceError(-2021, "Order cancel-replace partially failed.", status=409, data=data)
