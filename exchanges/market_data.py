"""Market data for the paper engine: the `MarketDataSource` protocol and its implementations.

- `StaticMarketData`: data the caller sets per symbol (ticker, book or candle) for tests and
  backtests.

Real public data from a venue is `exchanges.ccxt.public_data.CcxtPublicData`: kept apart so a
backtest (which needs only `StaticMarketData`) never imports ccxt (~1 s, ~95 MB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from exchanges.base import Market, OrderBook, Ticker
from exchanges.errors import ExchangeError


class MarketDataSource(Protocol):
    async def load_markets(self, reload: bool = False) -> dict[str, Market]: ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        """The book, or one with no levels on a side when depth is unknown (ticker-only)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC bar; `ts` is the bar's open time, prices in quote, volume in base."""

    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


def scripted_book(
    symbol: str,
    bid: Decimal,
    ask: Decimal,
    depth: Decimal,
    levels: int,
    timestamp: datetime,
    spacing: Decimal = Decimal(1),
) -> OrderBook:
    """A book of `levels` levels a side, `spacing` quote apart, each holding `depth` base."""
    bids = tuple((bid - spacing * i, depth) for i in range(levels))
    asks = tuple((ask + spacing * i, depth) for i in range(levels))
    return OrderBook(symbol=symbol, bids=bids, asks=asks, timestamp=timestamp)


class StaticMarketData:
    """Market data set by the caller. A set book also defines the ticker (best bid/ask,
    last = best bid) unless a ticker was set later; a candle sets a ticker at its close and
    clears the book, so orders then fill by the ticker rules."""

    def __init__(self, markets: Iterable[Market] = ()) -> None:
        self._markets = {m.symbol: m for m in markets}
        self._tickers: dict[str, Ticker] = {}
        self._books: dict[str, OrderBook] = {}

    def set_markets(self, markets: Iterable[Market]) -> None:
        self._markets = {m.symbol: m for m in markets}

    def set_ticker(self, ticker: Ticker) -> None:
        self._tickers[ticker.symbol] = ticker
        self._books.pop(ticker.symbol, None)

    def set_order_book(self, book: OrderBook) -> None:
        self._books[book.symbol] = book
        best_bid, best_ask = book.best_bid, book.best_ask
        self._tickers[book.symbol] = Ticker(
            symbol=book.symbol,
            bid=best_bid,
            ask=best_ask,
            last=best_bid if best_bid is not None else best_ask,
            timestamp=book.timestamp,
        )

    def set_candle(self, symbol: str, candle: Candle) -> None:
        self.set_ticker(
            Ticker(
                symbol, bid=candle.close, ask=candle.close, last=candle.close, timestamp=candle.ts
            )
        )

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        return dict(self._markets)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        ticker = self._tickers.get(symbol)
        if ticker is None:
            raise ExchangeError(f"no market data for {symbol}")
        return ticker

    def ticker(self, symbol: str) -> Ticker | None:
        """The ticker as set, without a round through the event loop (None if never set)."""
        return self._tickers.get(symbol)

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        book = self._books.get(symbol)
        if book is None:
            ticker = await self.fetch_ticker(symbol)
            return OrderBook(symbol=symbol, bids=(), asks=(), timestamp=ticker.timestamp)
        if len(book.bids) <= limit and len(book.asks) <= limit:
            return book
        return OrderBook(symbol, book.bids[:limit], book.asks[:limit], book.timestamp)

    async def close(self) -> None:
        return None
