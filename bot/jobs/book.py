"""The book as the jobs see it: valued through the order manager, last prices kept for status."""

from __future__ import annotations

from datetime import datetime

from bot.config.trading import StrategySettings
from bot.execution.book import Book
from bot.execution.book import value_book as value_venue_book
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState

# `StrategySettings.quote_currency` parses the allocation text, and the book is valued on every
# risk run; settings are frozen, so the answer is kept per settings object (held, so its id
# cannot be reused while it is kept).
_quotes: dict[int, tuple[StrategySettings, str]] = {}
_QUOTES_KEPT = 64


def quote_currency(strategy: StrategySettings) -> str:
    """`strategy.quote_currency`, parsed once per settings object."""
    hit = _quotes.get(id(strategy))
    if hit is not None and hit[0] is strategy:
        return hit[1]
    quote = strategy.quote_currency
    if len(_quotes) >= _QUOTES_KEPT:
        _quotes.clear()
    _quotes[id(strategy)] = (strategy, quote)
    return quote


async def value_book(ctx: JobContext, now: datetime) -> Book | None:
    """Sync fills and value every open position; the prices are kept for `qtbot status`."""
    services = ctx.services
    book = await value_venue_book(
        services.orders, services.exchange, quote_currency(ctx.settings.strategy), now
    )
    if book is not None:
        RuntimeState(ctx.store).set_last_prices(book.prices, now)
    return book
