"""Stop-limit orders in the paper engine: which stops trigger now and what they execute.

Pure functions (no I/O, no clock); `exchanges.paper.engine` settles what they return. The rules,
each pinned by a test of the same id in tests/unit/exchanges/test_paper_stops.py:

- S1  A stop rests untriggered and never fills before its trigger; it reserves like a limit
      order at its limit price (F2: a sell stop reserves its base amount). It is refused with
      StopWouldTrigger when the market has already reached the trigger on arrival.
- S2  On a poll, a sell stop triggers when the best bid is at or below its trigger (a buy stop:
      best ask at or above); it then is a limit order arriving at that moment: what crosses
      fills at once as taker (L1), the rest rests as a limit (L2 from the next poll on).
- S3  Stops triggered in a poll take the book first, in the order a moving market reaches them
      (sell stops with the highest trigger first, buy stops with the lowest, then oldest);
      resting limit orders share what they left.
- SC1 On a candle a sell stop triggers if low <= trigger (buy: high >= trigger): at the open
      when the candle opened through the trigger (a gap), else at the trigger.
- SC2 Once triggered on a candle it fills at once, as taker, at that moment's price (the open
      after a gap, else the trigger) if no worse than its limit; a gap beyond the limit fills at
      the limit, as maker, only if the candle comes back to it (sell: high >= limit); otherwise
      the limit rests (C1 on later candles).
- SC3 On a candle, stops are matched before limit orders (stop before take-profit).
- R1  `replace_stop` cancels the old stop and accepts the new one in one ledger transaction
      (`ReplaceMethod.CANCEL_REPLACE`): the old reservation is released before the new one is
      taken, and no poll or crash can see both or neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from exchanges.base import Market, Side
from exchanges.paper.accounting import ZERO
from exchanges.paper.ledger import PaperOrder
from exchanges.paper.matching import Execution, candle_stop, priority_key
from exchanges.paper.orders import Liquidity, limit_executions
from exchanges.stops import stop_reached

Triggered = list[tuple[PaperOrder, list[Execution]]]
"""Stops that triggered, each marked `triggered=True`, with what it executes at once."""


def by_trigger(stops: Iterable[PaperOrder]) -> list[PaperOrder]:
    """Rule S3's order: sell stops with the highest trigger first, buy stops with the lowest."""
    return sorted(
        stops,
        key=lambda p: priority_key(
            Side.BUY if p.order.side is Side.SELL else Side.SELL,
            p.order.trigger_price or ZERO,
            p.seq,
        ),
    )


def _fired(paper: PaperOrder, now: datetime) -> PaperOrder:
    return replace(paper, order=replace(paper.order, triggered=True, updated_at=now))


def trigger_on_poll(
    stops: Iterable[PaperOrder],
    liquidity: Liquidity,
    market: Market,
    slippage: Decimal,
    now: datetime,
) -> tuple[Triggered, Liquidity]:
    """Rules S2/S3 for untriggered `stops` against the current market; returns the triggered
    ones with their taker executions, and the liquidity they left for the resting orders."""
    result: Triggered = []
    for paper in by_trigger(stops):
        order = paper.order
        assert order.trigger_price is not None and order.price is not None
        if not stop_reached(order.side, order.trigger_price, liquidity.bid, liquidity.ask):
            continue
        executions = limit_executions(
            order.side, order.remaining, order.price, liquidity, market, slippage
        )
        result.append((_fired(paper, now), executions))
        taken = sum((e.amount for e in executions), ZERO)
        if taken > 0 and liquidity.levels(order.side):
            liquidity = liquidity.after(order.side, order.price, taken)
    return result, liquidity


def trigger_on_candle(
    stops: Iterable[PaperOrder],
    open_: Decimal,
    high: Decimal,
    low: Decimal,
    ts: datetime,
) -> Triggered:
    """Rules SC1/SC2 for untriggered `stops` (created at or before `ts`, rule C2) on one
    candle opening at `ts`."""
    result: Triggered = []
    for paper in by_trigger(stops):
        order = paper.order
        assert order.trigger_price is not None and order.price is not None
        outcome = candle_stop(
            order.side, order.trigger_price, order.price, order.remaining, open_, high, low
        )
        if outcome is not None:
            executions = [] if outcome.execution is None else [outcome.execution]
            result.append((_fired(paper, ts), executions))
    return result
