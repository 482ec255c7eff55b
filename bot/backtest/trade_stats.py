"""What the round trips say: win rate, profit factor, average win and loss, best and worst
trade, and the same per pair. Floats (analytics, not the order path).

Definitions (a trip is one position cycle of one symbol, `results.RoundTrip`; PnL is net of
fees, in quote):

- Only closed trips are counted; a position still open at the end is a trip in the making
  (its value is in the equity curve, and `open_trips` says how many there are).
- win: net PnL > 0; loss: net PnL < 0; a trip at exactly 0 is neither.
- win rate: wins / closed trips (None without a closed trip).
- gross profit: sum of the winners' PnL; gross loss: minus the sum of the losers' PnL (>= 0).
- profit factor: gross profit / gross loss; `math.inf` when there are winners and no loser,
  None when there is neither (no closed trip, or only trips at 0). JSON writes inf as null
  (JSON has no infinity): gross_loss 0 with gross_profit > 0 tells that case apart.
- average win / loss: mean PnL of the winners / losers (the loss is negative); their
  returns are the same over the trip's cost (average entry x amount bought, fees excluded).
- payoff ratio: average win / -average loss; expectancy: mean PnL per closed trip.
- best / worst trade: the closed trip with the highest / lowest return on its cost.
- holding time: closed - opened, in days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.backtest.candles import CandleSeries, IntArray
from bot.backtest.metrics import time_share
from bot.backtest.results import RoundTrip, TradeFill, held_in_interval, holding_at
from exchanges.base import Side


@dataclass(frozen=True)
class TradeView:
    """One closed trip as a trader reads it: PnL in quote, return as a fraction of its cost."""

    symbol: str
    opened: datetime
    closed: datetime
    pnl: float
    ret: float | None
    days: float
    exits: tuple[str, ...]


@dataclass(frozen=True)
class TradeStats:
    closed_trips: int
    open_trips: int
    wins: int
    losses: int
    win_rate: float | None
    gross_profit: float
    gross_loss: float
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None
    avg_win_return: float | None
    avg_loss_return: float | None
    payoff_ratio: float | None
    expectancy: float | None
    avg_holding_days: float | None
    best: TradeView | None
    worst: TradeView | None


def trade_view(trip: RoundTrip) -> TradeView:
    """A closed trip's figures; `trip.closed` must be set."""
    if trip.closed is None:
        raise ValueError(f"the {trip.symbol} trip opened {trip.opened} is still open")
    cost = float(trip.avg_entry * trip.bought)
    pnl = float(trip.net_pnl)
    return TradeView(
        symbol=trip.symbol,
        opened=trip.opened,
        closed=trip.closed,
        pnl=pnl,
        ret=pnl / cost if cost > 0 else None,
        days=(trip.closed - trip.opened).total_seconds() / 86_400,
        exits=trip.exits,
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def profit_factor(gross_profit: float, gross_loss: float) -> float | None:
    """gross profit / gross loss (both >= 0); inf without a loss, None without either."""
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else None


def trade_stats(trips: Sequence[RoundTrip]) -> TradeStats:
    """The figures defined in this module's docstring, over `trips` (any order)."""
    closed = [trade_view(t) for t in trips if t.closed is not None]
    winners = [t for t in closed if t.pnl > 0]
    losers = [t for t in closed if t.pnl < 0]
    gross_profit = sum(t.pnl for t in winners)
    gross_loss = -sum(t.pnl for t in losers)
    avg_win = _mean([t.pnl for t in winners])
    avg_loss = _mean([t.pnl for t in losers])
    ranked = [t for t in closed if t.ret is not None]
    return TradeStats(
        closed_trips=len(closed),
        open_trips=len(trips) - len(closed),
        wins=len(winners),
        losses=len(losers),
        win_rate=len(winners) / len(closed) if closed else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=profit_factor(gross_profit, gross_loss),
        avg_win=avg_win,
        avg_loss=avg_loss,
        avg_win_return=_mean([t.ret for t in winners if t.ret is not None]),
        avg_loss_return=_mean([t.ret for t in losers if t.ret is not None]),
        payoff_ratio=_ratio(avg_win, -avg_loss if avg_loss is not None else None),
        expectancy=_mean([t.pnl for t in closed]),
        avg_holding_days=_mean([t.days for t in closed]),
        best=max(ranked, key=lambda t: t.ret or 0.0, default=None),
        worst=min(ranked, key=lambda t: t.ret or 0.0, default=None),
    )


@dataclass(frozen=True)
class PairStats:
    """One symbol's share of the run.

    pnl: what the symbol added to the equity, in quote: the cash its fills moved (sales less
    purchases, fees paid) plus what is still held, valued at the symbol's last close; the
    pairs' pnl add up to final - initial equity. exposure: share of the replayed time in bars
    during which the symbol was held at some point (the strategy's exposure, per symbol).
    price_change: last close / first open - 1 over the replayed bars (buy-and-hold of the
    symbol alone, before fees).
    """

    symbol: str
    trades: TradeStats
    pnl: float
    fees: float
    exposure: float
    price_change: float | None


def pair_stats(
    series: Sequence[CandleSeries],
    fills: Sequence[TradeFill],
    trips: Sequence[RoundTrip],
    start_ms: int,
    times: IntArray,
) -> list[PairStats]:
    """One row per replayed symbol, in the order of `series`; `times` = the equity curve's
    bar close times (ms)."""
    rows = []
    for s in series:
        mine = [f for f in fills if f.symbol == s.symbol]
        size = holding_at(times, mine)
        flows = sum(
            float(f.cost - f.fee if f.side is Side.SELL else -(f.cost + f.fee)) for f in mine
        )
        held = float(size[-1]) if size.size else 0.0
        last_close = float(s.close[-1]) if len(s) else 0.0
        first_open = float(s.open[0]) if len(s) else 0.0
        rows.append(
            PairStats(
                symbol=s.symbol,
                trades=trade_stats([t for t in trips if t.symbol == s.symbol]),
                pnl=flows + held * last_close,
                fees=sum(float(f.fee) for f in mine),
                exposure=time_share(start_ms, times, held_in_interval(size)),
                price_change=last_close / first_open - 1.0 if first_open > 0 else None,
            )
        )
    return rows
