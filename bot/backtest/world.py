"""The daemon's pieces for a backtest: in-memory store, paper engine on candles, simulated clock.

Everything is the production code, wired by the daemon's own composition root
(`bot.runtime.compose.compose`), with three differences that belong to the composition, not
to any decision code: the clock is a
`SimulatedClock`, market data is `StaticMarketData` fed from the candles, and the paper ledger
lives in memory (`InMemoryPaperLedger`). The bot's own state is kept in memory too
(`bot.state.memory`), behind the same repository interface as the daemon's database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.backtest.candles import CandleSeries
from bot.config.settings import Settings
from bot.execution.manager import OrderManager
from bot.runtime.compose import compose
from bot.services.clock import SimulatedClock
from bot.services.context import JobContext
from bot.state.memory import MemoryStore
from bot.state.plans_repo import MemoryStrategyRepo, PlanRepo
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import Market, Ticker
from exchanges.market_data import StaticMarketData
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.ledger import InMemoryPaperLedger

_HUNDRED = Decimal(100)
DEFAULT_FEE = Decimal("0.001")
MIN_COST = Decimal("5")  # Binance's minimum notional on USDT spot pairs


def price_tick(reference: float) -> Decimal:
    """About six significant digits, at most a cent: 43000 -> 0.01, 2.5 -> 0.00001."""
    exponent = math.floor(math.log10(reference)) - 5 if reference > 0 else -8
    return Decimal(1).scaleb(max(min(exponent, -2), -12))


def market_for(series: CandleSeries, fee: Decimal) -> Market:
    """Trading rules for a candle symbol: fine steps, Binance's fee and minimum notional."""
    reference = float(series.low.min()) if len(series) else 1.0
    return Market(
        symbol=series.symbol,
        base=series.base,
        quote=series.quote,
        amount_step=Decimal("0.00000001"),
        price_tick=price_tick(reference),
        min_amount=None,
        max_amount=None,
        min_cost=MIN_COST,
        maker_fee=fee,
        taker_fee=fee,
    )


@dataclass
class World:
    ctx: JobContext
    clock: SimulatedClock
    data: StaticMarketData
    venue: PaperExchange
    orders: OrderManager
    ledger: InMemoryPaperLedger
    markets: dict[str, Market]

    def set_price(self, symbol: str, price: Decimal, at: datetime) -> None:
        """The market now trades at `price` (bid = ask = last: candles carry no spread)."""
        self.data.set_ticker(Ticker(symbol, bid=price, ask=price, last=price, timestamp=at))


# The daily closes the anti-chase gate reads, built once for the very same series: a study
# replays the same candles trial after trial, and nothing records into the history during a
# replay (only `_price_history` does, before one).
_histories: list[tuple[tuple[CandleSeries, ...], MemoryPriceHistory]] = []


def _price_history(series: list[CandleSeries]) -> MemoryPriceHistory:
    key = tuple(series)
    for kept, history in _histories:
        if len(kept) == len(key) and all(a is b for a, b in zip(kept, key, strict=True)):
            return history
    history = MemoryPriceHistory()
    for s in series:
        for day, close in s.daily_closes():
            history.record(s.symbol, day, Decimal(repr(close)))
    _histories[:] = [(key, history)]
    return history


def build_world(
    settings: Settings,
    series: list[CandleSeries],
    signals: Signals | None,
    start: datetime,
    cash: Decimal,
    strategy_params: StrategyParams | None = None,
    database: bool = False,
) -> World:
    """The daemon's composition (`bot.runtime.compose`) for a replay. The bot's state lives in
    memory (`MemoryStore`: no database round trip per job run); `database=True` puts it in an
    in-memory SQLite database through the real repositories instead (the equivalence test
    compares the two)."""
    exchange = settings.exchange
    fee = (
        DEFAULT_FEE
        if exchange.paper_fee_pct is None
        else Decimal(str(exchange.paper_fee_pct)) / _HUNDRED
    )
    markets = {s.symbol: market_for(s, fee) for s in series}
    store: Store
    plans: PlanRepo | None
    if database:
        store, plans = Store.open("sqlite://"), None
    else:
        store, plans = MemoryStore(), MemoryStrategyRepo()
    clock = SimulatedClock(start)
    data = StaticMarketData(markets.values())
    ledger = InMemoryPaperLedger()
    config = PaperConfig(
        venue=exchange.id,
        starting_balances={series[0].quote: cash},
        slippage=Decimal(str(exchange.paper_slippage_pct)) / _HUNDRED,
        use_order_book=False,
    )
    venue = PaperExchange(data, ledger, clock.now, config)
    history = _price_history(series)
    ctx = compose(
        settings,
        store=store,
        clock=clock,
        exchange=venue,
        price_history=history,
        signals=signals,
        plans=plans,
        strategy_params=strategy_params,
        started_at=start,
        name="backtest",
    )
    return World(ctx, clock, data, venue, ctx.services.orders, ledger, markets)
