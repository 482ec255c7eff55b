"""Deterministic 1-minute candles made in memory: for benchmarks and tests (no files).

`minutes_from_daily` keeps the real days: each day's minute path is a seeded Brownian bridge
from the day's open to its close, with the day's own volatility (from its high-low range), so
the daily closes, and with them the Fed-era trends, are those of the real data.
`random_walk_minutes` is the same without an anchor: a seeded geometric random walk.
"""

from __future__ import annotations

import math

import numpy as np

from bot.backtest.candles import DAY_MS, CandleSeries

MINUTE_MS = 60_000
MINUTES_PER_DAY = DAY_MS // MINUTE_MS
_WICK = 0.25  # intra-minute wick, as a share of the minute's own volatility


def _candles(
    symbol: str, start_ms: int, path: np.ndarray, sigma: np.ndarray, seed: int
) -> CandleSeries:
    """Minute bars whose closes are `exp(path)`; each opens at the previous close."""
    rng = np.random.default_rng(seed + 1)
    close = np.exp(path)
    open_ = np.concatenate(([close[0]], close[:-1]))
    wick = np.abs(rng.standard_normal((2, close.size))) * sigma * _WICK
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    ts = start_ms + MINUTE_MS * np.arange(close.size, dtype=np.int64)
    volume = np.ones(close.size)
    return CandleSeries(symbol, ts, open_, high, low, close, volume, MINUTE_MS, "synthetic")


def minutes_from_daily(daily: CandleSeries, seed: int) -> CandleSeries:
    """1-minute bars reproducing each daily bar's open and close (a Brownian bridge)."""
    days = len(daily)
    rng = np.random.default_rng(seed)
    log_open, log_close = np.log(daily.open), np.log(daily.close)
    # Parkinson's estimate of the daily volatility from the range, spread over the minutes.
    day_sigma = np.log(daily.high / daily.low) / (2 * math.sqrt(math.log(2)))
    minute_sigma = np.maximum(day_sigma, 1e-4) / math.sqrt(MINUTES_PER_DAY)
    steps = rng.standard_normal((days, MINUTES_PER_DAY)) * minute_sigma[:, None]
    walk = np.cumsum(steps, axis=1)
    fraction = np.arange(1, MINUTES_PER_DAY + 1) / MINUTES_PER_DAY
    bridge = walk - fraction[None, :] * walk[:, -1:]
    path = log_open[:, None] + fraction[None, :] * (log_close - log_open)[:, None] + bridge
    sigma = np.repeat(minute_sigma, MINUTES_PER_DAY)
    return _candles(daily.symbol, int(daily.ts[0]), path.ravel(), sigma, seed)


def random_walk_minutes(
    symbol: str, start_ms: int, count: int, price: float, seed: int, daily_vol: float = 0.035
) -> CandleSeries:
    """`count` 1-minute bars of a seeded geometric random walk starting at `price`."""
    rng = np.random.default_rng(seed)
    sigma = daily_vol / math.sqrt(MINUTES_PER_DAY)
    path = math.log(price) + np.cumsum(rng.standard_normal(count) * sigma)
    return _candles(symbol, start_ms, path, np.full(count, sigma), seed)
