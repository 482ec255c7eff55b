"""Orders and trades as the emulator stores them, rendered in Binance's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.emulator.catalog import fmt


class BinanceError(Exception):
    """An error reply in Binance's shape: HTTP `status` with body {"code": code, "msg": msg},
    plus `data` when given (cancelReplace reports both halves there)."""

    def __init__(
        self, code: int, msg: str, status: int = 400, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


@dataclass(slots=True)
class EmuTrade:
    """One execution of one of our orders. `commission` is in `commission_asset` (the asset
    received, as Binance charges without BNB discounts)."""

    trade_id: int
    order_id: int
    symbol: str
    is_buyer: bool
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool

    def as_fill(self) -> dict[str, Any]:
        """An entry of `fills` in a FULL order response."""
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }

    def as_my_trade(self) -> dict[str, Any]:
        """An entry of GET /api/v3/myTrades."""
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.price * self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time_ms,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }


@dataclass(slots=True)
class EmuOrder:
    """`reserved` is what the order still locks: quote for a resting buy, base for a sell.

    A STOP_LOSS_LIMIT carries `stop_price`; until it triggers it is NEW with `isWorking` false
    and `workingTime` -1 (as Binance shows a pending stop), then `working_ms` is set."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str  # "BUY" | "SELL"
    type: str  # "LIMIT" | "MARKET" | "STOP_LOSS_LIMIT"
    time_in_force: str
    price: Decimal  # 0 for market orders, as Binance reports them
    orig_qty: Decimal
    time_ms: int
    update_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumm_quote: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    trades: list[EmuTrade] = field(default_factory=list)
    stop_price: Decimal = Decimal(0)
    working_ms: int | None = None

    @property
    def is_stop(self) -> bool:
        return self.type == "STOP_LOSS_LIMIT"

    @property
    def waiting_for_trigger(self) -> bool:
        return self.is_stop and self.working_ms is None

    @property
    def working_time(self) -> int:
        if self.is_stop:
            return -1 if self.working_ms is None else self.working_ms
        return self.time_ms

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def _common(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "origQuoteOrderQty": fmt(Decimal(0)),
            "cummulativeQuoteQty": fmt(self.cumm_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def as_ack(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": self.time_ms,
        }

    def as_result(self, with_fills: bool) -> dict[str, Any]:
        """POST /api/v3/order reply for newOrderRespType RESULT, or FULL with `with_fills`."""
        body = self._common()
        body["transactTime"] = self.time_ms
        body["workingTime"] = self.working_time
        if self.is_stop:
            body["stopPrice"] = fmt(self.stop_price)
        if with_fills:
            body["fills"] = [t.as_fill() for t in self.trades]
        return body

    def as_query(self) -> dict[str, Any]:
        """GET /api/v3/order, /openOrders, /allOrders entry."""
        body = self._common()
        body.update(
            {
                "stopPrice": fmt(self.stop_price),
                "icebergQty": fmt(Decimal(0)),
                "time": self.time_ms,
                "updateTime": self.update_ms,
                "isWorking": not self.waiting_for_trigger,
                "workingTime": self.working_time,
            }
        )
        return body

    def as_cancel(self, cancel_client_id: str, now_ms: int) -> dict[str, Any]:
        """DELETE /api/v3/order reply: `clientOrderId` is the cancel request's own id and the
        order's id moves to `origClientOrderId`, as on Binance."""
        body = self._common()
        if self.is_stop:
            body["stopPrice"] = fmt(self.stop_price)
        body["origClientOrderId"] = self.client_order_id
        body["clientOrderId"] = cancel_client_id
        body["transactTime"] = now_ms
        return body
