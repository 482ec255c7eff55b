"""The account as the risk rules need it at one moment: positions, prices, equity, cash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.execution.manager import OrderManager
from exchanges.base import ExchangeAdapter, Market
from risk.position import Position


@dataclass(frozen=True)
class Book:
    """Open positions valued at the bid; `dust` is each symbol's minimum tradable amount."""

    markets: dict[str, Market]
    positions: dict[str, Position]
    prices: dict[str, Decimal]
    dust: dict[str, Decimal]
    equity: Decimal
    cash: Decimal


def traded_symbols(orders: OrderManager) -> list[str]:
    """Every symbol with a recorded fill or order, sorted."""
    return sorted(set(orders.repo.fill_symbols()) | set(orders.repo.symbols()))


def open_positions(
    orders: OrderManager, symbols: list[str], markets: dict[str, Market]
) -> tuple[dict[str, Decimal], dict[str, Position]]:
    """(each symbol's dust: its market's minimum amount, the positions above it)."""
    dust = {s: (markets[s].min_amount or Decimal(0)) for s in symbols if s in markets}
    positions = {
        s: p for s, p in orders.positions(dust).items() if p.is_open(dust.get(s, Decimal(0)))
    }
    return dust, positions


def held_value(positions: dict[str, Position], prices: dict[str, Decimal]) -> Decimal:
    """What the priced positions are worth at `prices`."""
    return sum((p.size * prices[s] for s, p in positions.items() if s in prices), Decimal(0))


async def value_book(
    orders: OrderManager, exchange: ExchangeAdapter, quote: str, now: datetime
) -> Book | None:
    """Sync fills, then value every open position at the bid; None when nothing was ever traded."""
    symbols = traded_symbols(orders)
    if not symbols:
        return None  # nothing held, nothing ordered: no need to wake the venue
    for symbol in symbols:
        await orders.sync_fills(symbol, now)
    markets = await exchange.load_markets()
    dust, positions = open_positions(orders, symbols, markets)
    prices: dict[str, Decimal] = {}
    for symbol in positions:
        ticker = await exchange.fetch_ticker(symbol)
        # A long is exited at the bid: judge stops and tiers on what a sale would get.
        price = ticker.bid or ticker.last
        if price is not None:
            prices[symbol] = price
    balances = await exchange.fetch_balances()
    quote_balance = balances.get(quote)
    equity = (quote_balance.total if quote_balance else Decimal(0)) + held_value(positions, prices)
    cash = quote_balance.free if quote_balance else Decimal(0)
    return Book(markets, positions, prices, dust, equity, cash)
