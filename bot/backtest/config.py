"""What one backtest run is: candles, signals, the bot's settings and the replay schedule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.backtest.candles import CandleSeries
from bot.config.settings import Settings
from bot.config.values import parse_allocation
from bot.strategy.inputs import Signals
from bot.strategy.params import StrategyParams

DAY = timedelta(days=1)


@dataclass(frozen=True)
class BacktestConfig:
    """One run.

    series: candles per symbol (one quote currency). The whole file is history the strategy
    may look back on (anti-chase closes); only bars within [start, end) are replayed.
    settings: the bot's settings (risk, strategy, paper fees) as the daemon would use them.
    signals: the strategy's signals (`bot.backtest.fed_signals.recorded_signals`); None = no
    regime known, so no plan ever starts.
    cash: starting quote balance; None = the strategy budget (so returns are on the money
    the strategy may deploy).
    job_every: interval of the scheduled jobs (risk check, then entry job) on the simulated
    clock, aligned to the epoch (00:00 UTC); None = one day, or the candle timeframe if
    longer. The strategy decides on daily data (regime, daily closes, tranches days apart,
    24 h reprice and FOMC blackout); the live daemon runs the entry job hourly, which
    `timedelta(hours=1)` reproduces at ~24x the cost. Exits and resting orders do not wait for
    the schedule: between runs, `replay` hands every bar where a resting order, tier,
    trailing stop or stop-loss can trigger to the jobs.
    hand_every_bar: hand every bar to the jobs (no skipping): slow, for verifying that
    skipping changes no decision.
    strategy_params: the entry planner's parameters, overriding those the settings give.
    database: keep the bot's state in an in-memory SQLite database through the daemon's own
    repositories instead of `bot.state.memory` (slower; for checking the two agree).
    """

    series: Sequence[CandleSeries]
    settings: Settings
    signals: Signals | None
    start: datetime | None = None
    end: datetime | None = None
    cash: Decimal | None = None
    job_every: timedelta | None = None
    hand_every_bar: bool = False
    strategy_params: StrategyParams | None = None
    database: bool = False

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError("a backtest needs at least one candle series")
        symbols = [s.symbol for s in self.series]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"one candle file per symbol, got {sorted(symbols)}")
        quotes = {s.quote for s in self.series}
        if len(quotes) != 1:
            raise ValueError(f"all symbols must share one quote currency, got {sorted(quotes)}")
        if self.job_every is not None and self.job_every <= timedelta(0):
            raise ValueError("job_every must be positive")

    @property
    def quote(self) -> str:
        return self.series[0].quote

    @property
    def timeframe(self) -> timedelta:
        return timedelta(milliseconds=min(s.timeframe_ms for s in self.series))

    @property
    def schedule(self) -> timedelta:
        return self.job_every or max(DAY, self.timeframe)


def effective_allocation(settings: Settings, symbols: Sequence[str]) -> str:
    """The configured allocation restricted to the symbols with candles, weights rescaled.

    With none of the configured symbols among them, the candle symbols share equally. The
    result is the settings form ("BTC/USDT:60,ETH/USDT:40") summing to exactly 100.
    """
    configured = [(s, w) for s, w in parse_allocation(settings.strategy.allocation) if s in symbols]
    if not configured:
        configured = [(s, Decimal(1)) for s in symbols]
    total = sum((w for _, w in configured), Decimal(0))
    weights = [(w * 100 / total).quantize(Decimal("0.000001")) for _, w in configured]
    weights[-1] = Decimal(100) - sum(weights[:-1], Decimal(0))
    return ",".join(f"{s}:{w.normalize():f}" for (s, _), w in zip(configured, weights, strict=True))


def backtest_settings(settings: Settings, symbols: Sequence[str]) -> Settings:
    """The settings with the allocation fitted to the candle symbols (see above), and no stop
    orders resting on the simulated venue: they mirror the daemon's own stop, which the replay
    already evaluates at the exact bar, so they would only add bars to hand over."""
    allocation = effective_allocation(settings, symbols)
    strategy = settings.strategy.model_copy(update={"allocation": allocation})
    risk = settings.risk.model_copy(update={"exchange_stop": False})
    return settings.model_copy(update={"strategy": strategy, "risk": risk})


def look_back(settings: Settings) -> timedelta:
    """History loaded before the first replayed day: the strategy reads this far back (the
    anti-chase closes), two days' margin. `qtbot backtest --from` loads it and studies cut
    their candles the same way, since results depend (in the last digits) on it."""
    return timedelta(days=settings.strategy.anti_chase_days + 2)
