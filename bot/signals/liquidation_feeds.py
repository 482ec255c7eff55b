"""Which venues publish liquidations, and how (ccxt 4.5.90): venue quirks as data.

`bot.feeds.liquidation_sources` follows this table; the settings check feed names against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FeedMode(StrEnum):
    WS_ALL_MARKETS = "ws_all_markets"
    WS_SYMBOLS = "ws_symbols"
    WS_PER_SYMBOL = "ws_per_symbol"
    REST_POLL = "rest_poll"


@dataclass(frozen=True)
class FeedCapability:
    modes: tuple[FeedMode, ...]  # preferred first
    ccxt_options: Mapping[str, Any]


FEED_CAPABILITIES: dict[str, FeedCapability] = {
    "binance": FeedCapability(
        (FeedMode.WS_ALL_MARKETS, FeedMode.WS_SYMBOLS), {"defaultType": "swap"}
    ),
    "bybit": FeedCapability((FeedMode.WS_PER_SYMBOL,), {"defaultType": "swap"}),
    "okx": FeedCapability((FeedMode.WS_SYMBOLS,), {"defaultType": "swap"}),
    "gate": FeedCapability((FeedMode.REST_POLL,), {"defaultType": "swap"}),
    "htx": FeedCapability((FeedMode.REST_POLL,), {"defaultType": "swap"}),
}
