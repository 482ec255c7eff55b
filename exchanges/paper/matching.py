"""Pure fill-price rules of the paper engine (no I/O, no clock). The rules themselves are listed
in the module docstrings of `exchanges.paper.engine` (M, L, C) and `exchanges.paper.stops`
(SC); each function here names the rule it implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchanges.base import Level, Side


@dataclass(frozen=True, slots=True)
class Execution:
    """One simulated execution: `amount` base at `price` quote; maker or taker."""

    price: Decimal
    amount: Decimal
    is_maker: bool


def walk_book(
    levels: Sequence[Level], side: Side, amount: Decimal, limit: Decimal | None
) -> list[Execution]:
    """Rules M1/L1: take liquidity level by level at each level's price, as taker.

    `levels` is the opposite side of the book (asks for a buy), best first. With `limit`, only
    levels at or better than it are taken. Returns fewer than `amount` when the book is thin.
    """
    executions: list[Execution] = []
    left = amount
    for price, size in levels:
        if left <= 0:
            break
        if limit is not None and not _reaches(side, price, limit):
            break
        if size <= 0:
            continue
        take = min(left, size)
        executions.append(Execution(price=price, amount=take, is_maker=False))
        left -= take
    return executions


def ticker_price(
    side: Side, bid: Decimal, ask: Decimal, slippage: Decimal, tick: Decimal
) -> Decimal:
    """Rule M2: with no depth, a market buy pays ask * (1 + slippage), a sell gets
    bid * (1 - slippage); rounded to the tick against the trader."""
    if side is Side.BUY:
        raw, rounding = ask * (1 + slippage), ROUND_CEILING
    else:
        raw, rounding = bid * (1 - slippage), ROUND_FLOOR
    return (raw / tick).to_integral_value(rounding=rounding) * tick


def _reaches(side: Side, book_price: Decimal, limit: Decimal) -> bool:
    """A buy at `limit` can trade with an ask at or below it; a sell with a bid at or above."""
    return book_price <= limit if side is Side.BUY else book_price >= limit


def available_through(levels: Sequence[Level], side: Side, limit: Decimal) -> Decimal:
    """Volume on the opposite side at prices that reach `limit` (rule L2's cap)."""
    total = Decimal(0)
    for price, size in levels:
        if not _reaches(side, price, limit):
            break
        total += size
    return total


def consume(levels: Sequence[Level], side: Side, limit: Decimal, amount: Decimal) -> list[Level]:
    """Rule L3: the levels left after a resting order took `amount` of the volume reaching
    `limit`, so the next order in priority cannot fill against the same liquidity."""
    left = amount
    remaining: list[Level] = []
    for price, size in levels:
        if left > 0 and _reaches(side, price, limit):
            take = min(left, size)
            left -= take
            if size - take > 0:
                remaining.append((price, size - take))
        else:
            remaining.append((price, size))
    return remaining


def candle_fill_price(
    side: Side, limit: Decimal, open_: Decimal, high: Decimal, low: Decimal
) -> Decimal | None:
    """Rule C1: a resting buy fills if low <= limit, at min(limit, open) (a gap down fills at
    the open); a sell fills if high >= limit, at max(limit, open). None if not touched."""
    if side is Side.BUY:
        return min(limit, open_) if low <= limit else None
    return max(limit, open_) if high >= limit else None


def priority_key(side: Side, price: Decimal, seq: int) -> tuple[Decimal, int]:
    """Price-time priority: best price first (highest buy, lowest sell), then oldest."""
    return (-price if side is Side.BUY else price, seq)


@dataclass(frozen=True, slots=True)
class CandleStop:
    """What one candle does to a stop-limit (rules SC1/SC2): it triggered; `execution` is its
    fill on this candle, or None when the triggered limit rests on."""

    execution: Execution | None


def candle_stop(
    side: Side,
    trigger: Decimal,
    limit: Decimal,
    amount: Decimal,
    open_: Decimal,
    high: Decimal,
    low: Decimal,
) -> CandleStop | None:
    """Rules SC1/SC2 for one untriggered stop-limit on one candle; None if not triggered.

    SC1: a sell triggers if low <= trigger (buy: high >= trigger), at the open when the candle
    opened through the trigger, else at the trigger. SC2: the triggered limit fills at once, as
    taker, at that trigger-moment price if it is no worse than the limit (a gap fills at the
    open); a gap beyond the limit fills at the limit, as maker, only if the candle comes back
    to it (sell: high >= limit); otherwise it rests.
    """
    if side is Side.SELL:
        if low > trigger:
            return None
        gapped = open_ <= trigger
        at = open_ if gapped else trigger
        if at >= limit:
            return CandleStop(Execution(price=at, amount=amount, is_maker=False))
        back = gapped and high >= limit
    else:
        if high < trigger:
            return None
        gapped = open_ >= trigger
        at = open_ if gapped else trigger
        if at <= limit:
            return CandleStop(Execution(price=at, amount=amount, is_maker=False))
        back = gapped and low <= limit
    if back:
        return CandleStop(Execution(price=limit, amount=amount, is_maker=True))
    return CandleStop(None)
