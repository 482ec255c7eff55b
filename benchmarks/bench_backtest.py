"""Backtest replay throughput: one year of 1-minute candles for two symbols, default rules.

How it measures: 1-minute candles for BTC/USDT and ETH/USDT from 2019-06-01 to 2020-05-31
(527,040 bars each, 1,054,080 in all) are synthesised in memory: each real daily candle of
../shared/data becomes a seeded Brownian bridge from its open to its close with its own
volatility (a seeded random walk when the shared data is absent). The Fed regime comes from
the series shipped in bot/data, point in time. `run_backtest` then replays them with the
default settings and strategy (jobs once a day; every bar where a resting order, tier,
trailing stop or stop-loss can trigger handed to the real paper engine and risk/entry jobs)
and collects the results (metrics, equity curve, journal). The bot's state is kept in memory
(`bot.state.memory`), as every backtest does. The wall time of that call (after a one-week
warm-up run that loads modules) gives bars/s. Peak memory is the process's peak resident set
size (getrusage ru_maxrss) after the run: interpreter, imports, the candle arrays and the run
together. For comparison, stderr also reports the same run through the daemon's SQLite
repositories (`BacktestConfig(database=True)`), measured after the main figures.

Run from the repo root: `python benchmarks/bench_backtest.py`. stdout carries exactly two
lines, `backtest_replay: <int> bars/s` and `backtest_peak_memory: <int> MB`; the method and
a breakdown go to stderr as `# measured: ...` lines.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.backtest.candles import CandleSeries, load_candles, to_ms
from bot.backtest.config import BacktestConfig
from bot.backtest.runner import run_backtest
from bot.backtest.synthetic import minutes_from_daily, random_walk_minutes
from bot.cli.backtest import build_signals
from bot.config.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
START = datetime(2019, 6, 1, tzinfo=UTC)
END = datetime(2020, 6, 1, tzinfo=UTC)
SYMBOLS = (("BTC/USDT", "BTC_USDT-1d.csv", 8500.0), ("ETH/USDT", "ETH_USDT-1d.csv", 250.0))


def candles() -> tuple[list[CandleSeries], str]:
    series: list[CandleSeries] = []
    sources = []
    for seed, (symbol, name, price) in enumerate(SYMBOLS):
        path = SHARED / name
        if path.exists():
            series.append(minutes_from_daily(load_candles(path).between(START, END), seed))
            sources.append(f"{symbol} bridged from {path}")
        else:
            minutes = int((END - START) / timedelta(minutes=1))
            series.append(random_walk_minutes(symbol, to_ms(START), minutes, price, seed))
            sources.append(f"{symbol} seeded random walk (no {path})")
    return series, "; ".join(sources)


def main() -> None:
    series, source = candles()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    signals = build_signals(settings, None)
    warm = [s.between(START, START + timedelta(days=7)) for s in series]
    run_backtest(BacktestConfig(warm, settings, signals))
    config = BacktestConfig(series, settings, build_signals(settings, None))
    began = time.perf_counter()
    result = run_backtest(config)
    seconds = time.perf_counter() - began
    bars = result.stats.bars
    rate = bars / seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = result.stats
    jobs = stats.job_seconds
    print(
        f"# measured: {bars:,} 1-minute bars ({source}), {START:%Y-%m-%d} to {END:%Y-%m-%d}, "
        f"default settings, in {seconds:.2f} s wall (one run after a warm-up); peak memory = "
        "ru_maxrss of the whole process",
        file=sys.stderr,
    )
    print(
        f"# measured: {stats.scheduled_runs} scheduled job runs, {stats.handed_bars} bars "
        f"handed over, {stats.risk_ticks} intra-candle risk ticks, {stats.catch_up_ticks} "
        f"high-water catch-ups, {len(result.fills)} fills; {jobs:.2f} s inside the real "
        f"risk/entry jobs, {seconds - jobs:.2f} s in the replay, search and results "
        f"({bars / max(seconds - jobs, 1e-9):,.0f} bars/s without the jobs)",
        file=sys.stderr,
    )
    print(f"backtest_replay: {int(rate)} bars/s")
    print(f"backtest_peak_memory: {int(peak_mb)} MB")
    sys.stdout.flush()
    began = time.perf_counter()
    through_sql = run_backtest(replace(config, database=True))
    sql_seconds = time.perf_counter() - began
    same = through_sql.fills == result.fills and through_sql.orders == result.orders
    print(
        f"# measured: the same run through the SQLite repositories: {sql_seconds:.2f} s, "
        f"{bars / sql_seconds:,.0f} bars/s ({through_sql.stats.job_seconds:.2f} s inside the "
        f"jobs); same fills and orders: {same}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
