"""Venue quirks as data: one `VenueSpec` per exchange the ccxt adapter knows.

Code reads these fields; it never branches on an exchange id. Facts checked against ccxt 4.5.90
and the venues' API docs:

- binance: newClientOrderId ``^[.A-Z:/a-z0-9_-]{1,36}$``, unique among open orders; lookup with
  fetch_order(None, symbol, {'clientOrderId': x}); spot testnet via sandbox (no sapi there);
  GET /api/v3/order carries no fee, so fees come from myTrades by orderId.
- bybit: orderLinkId letters, digits, '-' and '_', up to 36; fetch_order takes the exchange id
  only, so a client id is searched in open then closed orders; testnet via sandbox
  (api-testnet host), demo trading is a separate host with separate keys.
- okx: clOrdId alphanumeric, up to 32; needs the API password; sandbox keeps the host and adds
  the ``x-simulated-trading: 1`` header.

Protective stops (`StopSpec`; request shapes pinned in tests/unit/exchanges/test_ccxt_stops.py):

- binance spot: STOP_LOSS_LIMIT through ccxt's `stopLossPrice` with type 'limit' (ccxt sends
  type=STOP_LOSS_LIMIT, stopPrice, price, timeInForce=GTC). It locks the base at placement and
  is an ordinary order for GET /order, openOrders, allOrders, DELETE /order and myTrades; until
  it triggers `isWorking` is false and `workingTime` -1. Triggers on the last trade price. No
  amend for stops (PUT order/amend/keepPriority only lowers a quantity): ccxt `edit_order`
  uses POST order/cancelReplace (cancelReplaceMode=STOP_ON_FAILURE): one request, the venue
  cancels then places, so the position is without a stop only inside the venue.
- bybit spot: a TP/SL order (orderFilter=tpslOrder) through ccxt's `stopLossPrice`; it
  occupies the base at placement, unlike a conditional order (orderFilter=StopOrder). Cancel
  and order queries need orderFilter=tpslOrder. Amend in place (POST /v5/order/amend,
  triggerPrice/price/qty) keeps the orderLinkId. Triggers on the last price. Not exercised
  against the venue here: request construction only.
- okx spot: an algo order of ordType 'trigger' (ccxt `triggerPrice`; triggerPx, orderPx = the
  limit, tdMode cash) with the id in algoClOrdId. Queried and canceled through the algo
  endpoints (ccxt param trigger=True); once triggered ('effective') the fills belong to a
  regular child order named in `ordId`, whose details carry algoClOrdId. Amend in place via
  POST /trade/amend-algos (newTriggerPx, newOrdPx, newSz). Whether the base is reserved before
  the trigger is not documented clearly: treated as not reserved. Request construction only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from exchanges.base import OrderType
from exchanges.stops import NO_STOP_ORDERS, ReplaceMethod, VenueCapabilities


class ClientIdLookup(StrEnum):
    """How an order is found by client order id."""

    FETCH_ORDER_PARAM = "fetch_order_param"  # fetch_order(None, symbol, {param: id})
    SEARCH_ORDER_LISTS = "search_order_lists"  # open orders, then closed, filtered by {param: id}


class TestnetMethod(StrEnum):
    __test__ = False  # not a pytest test class despite the name

    SANDBOX = "sandbox"  # ccxt set_sandbox_mode(True): urls['test']
    DEMO = "demo"  # ccxt enable_demo_trading(True)


@dataclass(frozen=True, slots=True)
class ClientIdRules:
    """What a venue accepts as a client order id."""

    max_length: int
    charset: str  # regex character class body, e.g. "A-Za-z0-9_-"
    prefix: str  # "qtbot-", or "qtbot" where '-' is not allowed

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"^[{self.charset}]{{1,{self.max_length}}}$")

    def is_valid(self, client_order_id: str) -> bool:
        return bool(self.pattern.fullmatch(client_order_id))


Markers = tuple[tuple[str, tuple[str, ...]], ...]
"""(raw field, lower-cased values): any field holding one of its values matches."""


@dataclass(frozen=True, slots=True)
class StopSpec:
    """How one venue rests a protective stop-limit through ccxt.

    `trigger_param` carries the trigger on create (with ccxt type 'limit' and the limit
    price); `client_id_param` overrides the venue's client id param on create (okx algo
    orders); `stop_params` are added to lookups and cancels of a stop, and `separate_listing`
    says plain order queries do not show stops (so they are queried with `stop_params` too).
    `client_id_field` is the raw field naming our id on a stop (when ccxt's clientOrderId does
    not); `untriggered` marks a stop that has not triggered; `child_order_field` names the
    regular order a triggered stop spawned (its fills and fill state live there).
    `replace` goes through ccxt `edit_order` (AMEND, CANCEL_REPLACE): `edit_type` is its type
    argument, `edit_trigger_param` the param carrying the new trigger, and `edit_old_id_param`
    the param naming the old order by client id (None: the exchange order id is passed as
    `edit_order`'s id).
    """

    trigger_param: str
    replace: ReplaceMethod
    reserves_base: bool
    trigger_reference: str
    untriggered: Markers
    client_id_param: str | None = None
    stop_params: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    separate_listing: bool = False
    client_id_field: str | None = None
    child_order_field: str | None = None
    edit_type: str = "limit"
    edit_trigger_param: str = "triggerPrice"
    edit_old_id_param: str | None = None

    def capabilities(self) -> VenueCapabilities:
        return VenueCapabilities(
            stop_orders=True,
            stop_order_type=OrderType.STOP_LIMIT,
            replace_method=self.replace,
            stop_reserves_base=self.reserves_base,
            trigger_reference=self.trigger_reference,
        )


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One venue's quirks.

    `client_id_param` is the ccxt param carrying our id on create (ccxt maps it to the native
    field named in `native_client_id_field`); `lookup_param` is the one used by fetch and
    cancel. `ccxt_config` is merged into the ccxt constructor config (options, has overrides).
    `trades_by_order_param` is the trades query param naming one order (binance: orderId), for
    venues whose order replies carry no fee: the fee then comes from the order's trades.
    `order_not_found_markers` / `duplicate_markers` are message fragments that identify those
    errors when ccxt maps them to a broader class.
    """

    exchange_id: str
    client_ids: ClientIdRules
    native_client_id_field: str
    client_id_param: str = "clientOrderId"
    lookup: ClientIdLookup = ClientIdLookup.FETCH_ORDER_PARAM
    lookup_param: str = "clientOrderId"
    testnet: TestnetMethod | None = TestnetMethod.SANDBOX
    password_required: bool = False
    trades_by_order_param: str | None = None
    order_not_found_markers: tuple[str, ...] = ()
    duplicate_markers: tuple[str, ...] = ()
    ccxt_config: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    stops: StopSpec | None = None

    @property
    def capabilities(self) -> VenueCapabilities:
        return NO_STOP_ORDERS if self.stops is None else self.stops.capabilities()


_SPOT_ONLY: dict[str, Any] = {
    # Load spot markets only and skip currencies (private on most venues, unused here).
    "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}},
    "has": {"fetchCurrencies": False},
}


def _config(extra_options: dict[str, Any] | None = None) -> MappingProxyType[str, Any]:
    options = {**_SPOT_ONLY["options"], **(extra_options or {})}
    return MappingProxyType({"options": options, "has": dict(_SPOT_ONLY["has"])})


VENUES: MappingProxyType[str, VenueSpec] = MappingProxyType(
    {
        "binance": VenueSpec(
            exchange_id="binance",
            client_ids=ClientIdRules(max_length=36, charset=r".A-Z:/a-z0-9_-", prefix="qtbot-"),
            native_client_id_field="newClientOrderId",
            testnet=TestnetMethod.SANDBOX,
            trades_by_order_param="orderId",
            order_not_found_markers=("Unknown order sent", "Order does not exist"),
            duplicate_markers=("Duplicate order sent",),
            ccxt_config=_config(
                {
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                    "fetchOpenOrders": {"warnWithoutSymbol": False},
                }
            ),
            stops=StopSpec(
                trigger_param="stopLossPrice",
                replace=ReplaceMethod.CANCEL_REPLACE,
                reserves_base=True,
                trigger_reference="last trade price",
                untriggered=(("isWorking", ("false",)), ("workingTime", ("-1",))),
                edit_trigger_param="stopPrice",
                edit_old_id_param="cancelOrigClientOrderId",
            ),
        ),
        "bybit": VenueSpec(
            exchange_id="bybit",
            client_ids=ClientIdRules(max_length=36, charset=r"A-Za-z0-9_-", prefix="qtbot-"),
            native_client_id_field="orderLinkId",
            lookup=ClientIdLookup.SEARCH_ORDER_LISTS,
            lookup_param="orderLinkId",
            testnet=TestnetMethod.SANDBOX,
            order_not_found_markers=("Order does not exist", "order not exists"),
            duplicate_markers=("OrderLinkedID is duplicate", "orderLinkId is duplicate"),
            ccxt_config=_config(),
            stops=StopSpec(
                trigger_param="stopLossPrice",
                replace=ReplaceMethod.AMEND,
                reserves_base=True,
                trigger_reference="last price",
                untriggered=(("orderStatus", ("untriggered", "deactivated")),),
                stop_params=MappingProxyType({"orderFilter": "tpslOrder"}),
                separate_listing=True,
            ),
        ),
        "okx": VenueSpec(
            exchange_id="okx",
            client_ids=ClientIdRules(max_length=32, charset=r"A-Za-z0-9", prefix="qtbot"),
            native_client_id_field="clOrdId",
            testnet=TestnetMethod.SANDBOX,
            password_required=True,
            order_not_found_markers=("Order does not exist",),
            duplicate_markers=("Duplicated client order ID", "clOrdId already exists"),
            ccxt_config=_config(),
            stops=StopSpec(
                trigger_param="triggerPrice",
                replace=ReplaceMethod.AMEND,
                reserves_base=False,
                trigger_reference="last price",
                untriggered=(("state", ("live", "canceled")),),
                client_id_param="algoClOrdId",
                stop_params=MappingProxyType({"trigger": True}),
                separate_listing=True,
                client_id_field="algoClOrdId",
                child_order_field="ordId",
                edit_type="trigger",
                edit_trigger_param="newTriggerPx",
            ),
        ),
    }
)

GENERIC_CLIENT_IDS = ClientIdRules(max_length=32, charset=r"A-Za-z0-9", prefix="qtbot")
"""For venues not in `VENUES`: the strictest common form (alphanumeric, <= 32)."""


def venue_spec(exchange_id: str) -> VenueSpec:
    """The venue's spec; a conservative generic one for exchanges not listed."""
    spec = VENUES.get(exchange_id)
    if spec is not None:
        return spec
    return VenueSpec(
        exchange_id=exchange_id,
        client_ids=GENERIC_CLIENT_IDS,
        native_client_id_field="clientOrderId",
        ccxt_config=_config(),
    )
