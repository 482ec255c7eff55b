"""The book as the jobs see it: valued through the order manager, last prices kept for status."""

from __future__ import annotations

from datetime import datetime

from bot.execution.book import Book
from bot.execution.book import value_book as value_venue_book
from bot.services.context import JobContext
from bot.state.runtime_state import RuntimeState


async def value_book(ctx: JobContext, now: datetime) -> Book | None:
    """Sync fills and value every open position; the prices are kept for `qtbot status`."""
    services = ctx.services
    book = await value_venue_book(
        services.orders, services.exchange, ctx.settings.strategy.quote_currency, now
    )
    if book is not None:
        RuntimeState(ctx.store).set_last_prices(book.prices, now)
    return book
