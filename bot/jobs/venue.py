"""Jobs that keep the store in line with the venue: reconcile orders, match paper orders."""

from __future__ import annotations

from datetime import datetime

from bot.services.context import JobContext
from exchanges.errors import ExchangeError
from exchanges.paper.engine import PaperExchange


async def reconcile(ctx: JobContext, now: datetime) -> None:
    report = await ctx.services.orders.reconcile(now)
    if report.errors:
        raise ExchangeError("; ".join(report.errors))


async def paper_match(ctx: JobContext, now: datetime) -> None:
    """Let resting paper orders meet the market (the paper engine's own clockwork)."""
    exchange = ctx.services.exchange
    if isinstance(exchange, PaperExchange):
        await exchange.match_resting()
