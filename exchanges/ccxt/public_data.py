"""`CcxtPublicData`: real public data (markets, ticker, order book) from a ccxt exchange, no keys.

The paper engine's market data in paper mode, and the anti-chase gate's in testnet and live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]  # ccxt ships no stubs
import structlog
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]  # ccxt ships no stubs
from ccxt.base.decimal_to_precision import (  # type: ignore[import-untyped]  # ccxt ships no stubs
    DECIMAL_PLACES,
    TICK_SIZE,
)

from exchanges.base import Level, Market, OrderBook, Ticker
from exchanges.ccxt.urls import rewrite_api_urls
from exchanges.errors import ExchangeConfigError, ExchangeError, RateLimited, RetryableError

log = structlog.get_logger(__name__)


_PUBLIC_OPTIONS: dict[str, Any] = {
    # binance, bybit and okx read this; elsewhere it is ignored. Paper trades spot only, and
    # fetching derivatives markets costs extra requests at every start.
    "fetchMarkets": {"types": ["spot"]},
}


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


def _step(value: Any, precision_mode: int) -> Decimal:
    if value is None:
        return Decimal("1E-8")
    if precision_mode == TICK_SIZE:
        return Decimal(str(value))
    if precision_mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(value))
    # SIGNIFICANT_DIGITS has no fixed step; a fine step keeps orders valid at the venue's
    # own rounding, at the cost of slightly optimistic paper precision.
    return Decimal("1E-8")


def market_from_ccxt(raw: Mapping[str, Any], precision_mode: int) -> Market:
    """Convert one ccxt unified market dict into a `Market` (fees default to 0.1 %)."""
    precision = raw.get("precision") or {}
    limits = raw.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    return Market(
        symbol=str(raw["symbol"]),
        base=str(raw["base"]),
        quote=str(raw["quote"]),
        amount_step=_step(precision.get("amount"), precision_mode),
        price_tick=_step(precision.get("price"), precision_mode),
        min_amount=_dec(amount_limits.get("min")),
        max_amount=_dec(amount_limits.get("max")),
        min_cost=_dec(cost_limits.get("min")),
        maker_fee=_dec(raw.get("maker")) or Decimal("0.001"),
        taker_fee=_dec(raw.get("taker")) or Decimal("0.001"),
    )


def _from_ms(ms: Any, fallback: datetime) -> datetime:
    if ms is None:
        return fallback
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def _levels(raw: Iterable[Any]) -> tuple[Level, ...]:
    return tuple((Decimal(str(row[0])), Decimal(str(row[1]))) for row in raw)


class CcxtPublicData:
    """Public market data from ccxt's async client with no API keys.

    `rest_url` redirects every REST endpoint to that base (keeping each original path), so
    tests can serve recorded responses from a loopback server.
    """

    def __init__(
        self,
        exchange_id: str,
        rest_url: str | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        cls = getattr(ccxt_async, exchange_id, None)
        if cls is None:
            raise ExchangeConfigError(f"ccxt has no exchange {exchange_id!r}")
        config: dict[str, Any] = {"options": {**_PUBLIC_OPTIONS, **(options or {})}}
        self._exchange = cls(config)
        if rest_url is not None:
            self._exchange.urls["api"] = rewrite_api_urls(self._exchange.urls["api"], rest_url)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._markets: dict[str, Market] | None = None
        self.exchange_id = exchange_id

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        if self._markets is not None and not reload:
            return dict(self._markets)
        raw = await self._call(self._exchange.load_markets, reload)
        mode = int(self._exchange.precisionMode)
        markets: dict[str, Market] = {}
        for symbol, entry in raw.items():
            if not entry.get("spot"):
                continue
            try:
                markets[symbol] = market_from_ccxt(entry, mode)
            except (KeyError, ArithmeticError, TypeError, ValueError) as exc:
                log.warning("market_skipped", symbol=symbol, error=str(exc))
        self._markets = markets
        log.info("markets_loaded", exchange=self.exchange_id, count=len(markets))
        return dict(markets)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        raw = await self._call(self._exchange.fetch_ticker, symbol)
        return Ticker(
            symbol=symbol,
            bid=_dec(raw.get("bid")),
            ask=_dec(raw.get("ask")),
            last=_dec(raw.get("last")),
            timestamp=_from_ms(raw.get("timestamp"), self._clock()),
        )

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        raw = await self._call(self._exchange.fetch_order_book, symbol, limit)
        return OrderBook(
            symbol=symbol,
            bids=_levels(raw.get("bids") or ()),
            asks=_levels(raw.get("asks") or ()),
            timestamp=_from_ms(raw.get("timestamp"), self._clock()),
        )

    async def daily_closes(self, symbol: str, until: datetime, days: int) -> list[Decimal]:
        """Closes of up to `days` complete UTC days before the day of `until`, oldest first."""
        day_ms = 86_400_000
        end = int(until.timestamp() * 1000) // day_ms * day_ms
        since = end - days * day_ms
        rows = await self._call(self._exchange.fetch_ohlcv, symbol, "1d", since, days + 1)
        return [Decimal(str(row[4])) for row in rows if since <= int(row[0]) < end]

    async def close(self) -> None:
        await self._exchange.close()

    async def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return await method(*args)
        except (ccxt_errors.RateLimitExceeded, ccxt_errors.DDoSProtection) as exc:
            raise RateLimited(f"{self.exchange_id}: {exc}") from exc
        except ccxt_errors.NetworkError as exc:
            raise RetryableError(f"{self.exchange_id}: {exc}") from exc
        except ccxt_errors.BaseError as exc:
            raise ExchangeError(f"{self.exchange_id}: {exc}") from exc
