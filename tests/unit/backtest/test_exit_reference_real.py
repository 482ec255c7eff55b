"""The backtest's exits on real BTC+ETH candles agree with the independent reference.

The bot is run in process exactly as `qtbot backtest` runs it (`build_signals` +
`run_backtest`, default settings, the Fed data in ../shared/data), from 2019-01-01 to the end
of the data, on daily and on 4-hour candles. Its own buy fills are replayed through
`tests.reference.exit_simulator`, written from the documented exit rules, and every sale
must match: same symbol, same candle, same kind and tier, price and amount within 1e-4
relative; the reference must call for no exit the bot lacks. Skipped when the shared data is
absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.backtest.candles import CandleSeries, load_candles, to_ms
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.results import TradeFill
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.world import DEFAULT_FEE
from bot.config.settings import Settings
from bot.orders.intents import OrderRecord
from exchanges.base import OrderType, Side
from tests.reference.exit_matching import BotExit, compare, table
from tests.reference.exit_simulator import (
    BuyFill,
    Candles,
    params_from_settings,
    simulate_exits,
)
from tests.unit.signals.data_paths import shared_file

START = datetime(2019, 1, 1, tzinfo=UTC)


def _candles(s: CandleSeries) -> Candles:
    return Candles(
        s.symbol,
        s.ts.tolist(),
        s.open.tolist(),
        s.high.tolist(),
        s.low.tolist(),
        s.close.tolist(),
        s.timeframe_ms,
    )


def buy_fills(fills: Sequence[TradeFill], orders: Sequence[OrderRecord]) -> list[BuyFill]:
    """The bot's buys; a market order filled at the scheduled run that sent it."""
    types = {o.client_order_id: o.type for o in orders}
    return [
        BuyFill(
            f.symbol,
            to_ms(f.time),
            f.amount,
            f.price,
            f.fee,
            at_run=types.get(f.client_order_id or "") is OrderType.MARKET,
        )
        for f in fills
        if f.side is Side.BUY
    ]


def bot_exits(fills: Sequence[TradeFill], candles: dict[str, Candles]) -> list[BotExit]:
    """One row per exit order (its fills summed), in the candle holding its first fill."""
    orders: dict[str, list[TradeFill]] = {}
    for f in fills:
        if f.side is Side.SELL:
            orders.setdefault(f.client_order_id or f"{f.symbol}@{f.time}", []).append(f)
    rows = []
    for parts in orders.values():
        first = parts[0]
        amount = sum((p.amount for p in parts), Decimal(0))
        price = sum((p.amount * p.price for p in parts), Decimal(0)) / amount
        bar = candles[first.symbol].bar_of(to_ms(first.time))
        ts = int(candles[first.symbol].ts[bar])
        rows.append(BotExit(first.symbol, first.kind, first.tier, ts, price, amount))
    return sorted(rows, key=lambda r: (r.bar_ts, r.symbol))


def buys_after_take_profit(fills: Sequence[TradeFill]) -> list[TradeFill]:
    """Buys inside a cycle that a take-profit sale has already paid out (issue item 6)."""
    held: dict[str, Decimal] = {}
    paid_out: set[str] = set()
    wrong = []
    for f in fills:
        size = held.get(f.symbol, Decimal(0))
        if f.side is Side.BUY:
            if f.symbol in paid_out:
                wrong.append(f)
            held[f.symbol] = size + f.amount
            continue
        held[f.symbol] = size - f.amount
        if f.kind == "take_profit":
            paid_out.add(f.symbol)
        if held[f.symbol] <= 0:
            paid_out.discard(f.symbol)
    return wrong


def _run(timeframe: str) -> tuple[BacktestResult, dict[str, Candles]]:
    series = [
        load_candles(shared_file(f"{asset}_USDT-{timeframe}.csv")) for asset in ("BTC", "ETH")
    ]
    settings = Settings()
    signals = build_signals(settings, shared_file("WALCL.csv").parent)
    config = BacktestConfig(series=series, settings=settings, signals=signals, start=START)
    return run_backtest(config), {s.symbol: _candles(s) for s in series}


@pytest.fixture(scope="module", params=["1d", "4h"])
def real(request: pytest.FixtureRequest) -> tuple[str, BacktestResult, dict[str, Candles]]:
    timeframe: str = request.param
    result, candles = _run(timeframe)
    return timeframe, result, candles


def test_every_exit_matches_the_reference(
    real: tuple[str, BacktestResult, dict[str, Candles]],
) -> None:
    timeframe, result, candles = real
    params = params_from_settings(result.settings, DEFAULT_FEE)
    reference = simulate_exits(candles.values(), buy_fills(result.fills, result.orders), params)
    bot = bot_exits(result.fills, candles)
    assert len(bot) >= 20, "too few exits to check anything: did the backtest trade?"
    differences = compare(bot, reference)
    report = table(differences, f"BTC+ETH {timeframe} since {START:%Y-%m-%d}")
    print(report)
    assert not differences, report


def test_no_buy_after_a_take_profit_in_the_same_cycle(
    real: tuple[str, BacktestResult, dict[str, Candles]],
) -> None:
    timeframe, result, _ = real
    wrong = buys_after_take_profit(result.fills)
    rows = "\n".join(f"  {f.time:%Y-%m-%d %H:%M} {f.symbol} {f.amount} @ {f.price}" for f in wrong)
    assert not wrong, f"{timeframe}: {len(wrong)} buys after a take-profit sale:\n{rows}"
