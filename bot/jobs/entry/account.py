"""The risk limits' view of the account, for `risk.allowed_entry` before each tranche."""

from __future__ import annotations

from decimal import Decimal

from bot.config.risk_params import risk_params
from bot.jobs.entry.run import EntryRun
from bot.state.runtime_state import RuntimeState
from exchanges.base import Side
from risk.limits import EntryAllowance, allowed_entry, roll_equity_marks

_ZERO = Decimal(0)


def stored_block_reasons(run: EntryRun) -> list[str]:
    """What the risk job last said blocks every entry (empty = nothing, or no check yet)."""
    return RuntimeState(run.ctx.store).entries_blocked()


async def entry_allowance(run: EntryRun, symbol: str, quote: Decimal) -> EntryAllowance:
    """How much of a `quote` buy of `symbol` the exposure limits allow now.

    Positions, free cash and equity are read fresh (a tranche placed a moment ago counts);
    open buy orders count as pending exposure at their limit price (market orders at the
    reference price).
    """
    orders = run.orders
    symbols = set(orders.repo.fill_symbols()) | {symbol}
    dust = {s: run.dust(s) for s in symbols}
    positions = {s: p for s, p in orders.positions(dust).items() if p.is_open(dust.get(s, _ZERO))}
    prices = {s: await run.price(s) for s in set(positions) | {symbol}}
    pending: dict[str, Decimal] = {}
    for record in orders.repo.active():
        if record.side is not Side.BUY:
            continue
        price = record.price if record.type.has_limit_price else None
        price = price or prices.get(record.symbol) or await run.price(record.symbol)
        pending[record.symbol] = pending.get(record.symbol, _ZERO) + record.remaining * price
    balances = await run.exchange.fetch_balances()
    cash_balance = balances.get(run.params.quote)
    cash = cash_balance.free if cash_balance else _ZERO
    equity = (cash_balance.total if cash_balance else _ZERO) + sum(
        (p.size * prices[s] for s, p in positions.items()), _ZERO
    )
    marks = roll_equity_marks(RuntimeState(run.ctx.store).equity_marks(), equity, run.now)
    params = risk_params(
        run.ctx.settings.risk, risk_off=run.ctx.store.risk_off(), dust_by_symbol=dust
    )
    return allowed_entry(
        symbol, quote, positions, prices, marks.account(equity, cash), params, pending
    )
