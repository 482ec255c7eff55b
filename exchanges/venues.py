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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


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


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One venue's quirks.

    `client_id_param` is the ccxt param carrying our id on create (ccxt maps it to the native
    field named in `native_client_id_field`); `lookup_param` is the one used by fetch and
    cancel. `ccxt_config` is merged into the ccxt constructor config (options, has overrides).
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
    order_fee_from_trades: bool = False
    trades_by_order_param: str | None = None
    order_not_found_markers: tuple[str, ...] = ()
    duplicate_markers: tuple[str, ...] = ()
    ccxt_config: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))


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
            order_fee_from_trades=True,
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
