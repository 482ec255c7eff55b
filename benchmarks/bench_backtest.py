"""Whole-process `qtbot backtest` on one year of 1-minute candles for BTC/USDT and ETH/USDT.

How it measures: 1-minute candles from 2019-06-01 to 2020-05-31 (527,040 bars a symbol,
1,054,080 in all) are made from the real daily candles of ../shared/data (each day a seeded
Brownian bridge from its open to its close with its own volatility; a seeded random walk when
the shared data is absent) and written as the canonical CSV (`BTC_USDT-1m.csv`, ~25 MB each)
into a temporary directory. None of that is timed. Then `qtbot backtest --candles ... --json`
runs as a child process, default settings (jobs once a day; every bar where a resting order,
tier, trailing stop or stop-loss can act handed to the real risk/entry jobs), twice:

- cold: with an empty candle cache, so the run parses both CSVs (numpy's C parser) and writes
  the binary copies (`bot/backtest/candle_cache.py`);
- warm: the next run, which maps those copies (the case of every later backtest of the file).

Time = wall clock of the child, from exec to exit (interpreter start, imports, loading,
signals, replay, report). Peak RSS = the child's own ru_maxrss (`os.wait4`), file-backed
candle pages included. The child's `--json` stats say how many bars were replayed and how
many reached the real jobs. Then, in this process, `run_backtest` on the same candles gives
the time spent inside the real jobs per job run (the order path's overhead), after a warm-up.

Run from the repo root: `python benchmarks/bench_backtest.py`. stdout: `name: value unit`
lines; the method and a breakdown go to stderr as `# measured: ...`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.backtest.candles import CandleSeries, load_candles, to_ms
from bot.backtest.config import BacktestConfig
from bot.backtest.recorded_inputs import build_signals
from bot.backtest.runner import run_backtest
from bot.backtest.synthetic import minutes_from_daily, random_walk_minutes
from bot.config.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
QTBOT = Path(sys.executable).with_name("qtbot")
START = datetime(2019, 6, 1, tzinfo=UTC)
END = datetime(2020, 6, 1, tzinfo=UTC)
SYMBOLS = (("BTC/USDT", "BTC_USDT", 8500.0), ("ETH/USDT", "ETH_USDT", 250.0))


def _minutes(symbol: str, stem: str, price: float, seed: int) -> tuple[CandleSeries, str]:
    path = SHARED / f"{stem}-1d.csv"
    if path.exists():
        return minutes_from_daily(load_candles(path, START, END), seed), f"bridged from {path}"
    count = int((END - START) / timedelta(minutes=1))
    return random_walk_minutes(symbol, to_ms(START), count, price, seed), "seeded random walk"


def write_csv(series: CandleSeries, path: Path) -> None:
    """The canonical CSV, prices to the cent (what an exchange download looks like)."""
    block = np.column_stack(
        [series.ts, series.open, series.high, series.low, series.close, series.volume]
    )
    with path.open("w") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        np.savetxt(handle, block, fmt=["%d", "%.2f", "%.2f", "%.2f", "%.2f", "%g"], delimiter=",")


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one qtbot process, reaped with
    `os.wait4` so the figures are this child's own, not the maximum over every child so far."""
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=env)
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.stdout.close()
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"qtbot backtest failed ({child.returncode}): {err.read().decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, out.decode()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="qtbot-bench-") as tmp:
        directory = Path(tmp)
        files, sources = [], []
        for seed, (symbol, stem, price) in enumerate(SYMBOLS):
            series, source = _minutes(symbol, stem, price, seed)
            path = directory / f"{stem}-1m.csv"
            write_csv(series, path)
            files.append(path)
            sources.append(f"{symbol} {source}")
        env = {**os.environ, "XDG_CACHE_HOME": str(directory / "cache")}
        args = [str(QTBOT), "backtest", "--json"]
        for path in files:
            args += ["--candles", str(path)]
        cold_s, cold_cpu, cold_mb, _ = run_child(args, env)
        warm_s, warm_cpu, warm_mb, out = run_child(args, env)
        stats = json.loads(out)["replay"]
        overhead = _job_overhead(files)
    print(
        f"# measured: whole-process `qtbot backtest --json` over {stats['bars']:,} 1-minute "
        f"bars ({'; '.join(sources)}), {START:%Y-%m-%d} to {END:%Y-%m-%d}, default "
        "settings; time = wall clock of the child process, CPU = its user + system time, "
        "peak RSS = its own ru_maxrss",
        file=sys.stderr,
    )
    print(
        f"# measured: cold = first run, parses the CSVs and writes the candle cache; warm = "
        f"the next run, maps the cache. Of the {stats['bars']:,} bars, "
        f"{stats['handed_bars']} were handed to the real risk/entry jobs between "
        f"{stats['scheduled_runs']} scheduled job runs ({stats['risk_ticks']} intra-candle "
        f"risk ticks, {stats['catch_up_ticks']} high-water catch-ups); the rest were skipped "
        "by the vectorised search, which proves no order, tier or stop could act on them",
        file=sys.stderr,
    )
    print(
        f"# measured: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the "
        "end: above the core count, wall time includes waiting for a core; CPU time does not",
        file=sys.stderr,
    )
    print(f"backtest_cold_time: {cold_s:.2f} s")
    print(f"backtest_cold_cpu: {cold_cpu:.2f} s")
    print(f"backtest_cold_peak_rss: {cold_mb:.0f} MB")
    print(f"backtest_time: {warm_s:.2f} s")
    print(f"backtest_cpu: {warm_cpu:.2f} s")
    print(f"backtest_peak_rss: {warm_mb:.0f} MB")
    print(f"backtest_bars_replayed: {stats['bars']} bars")
    print(f"backtest_bars_to_jobs: {stats['handed_bars']} bars")
    print(f"backtest_job_overhead: {overhead:.2f} ms per job run")


def _job_overhead(files: list[Path]) -> float:
    """Milliseconds inside the real risk/entry jobs per job run, in process after a warm-up
    (the cost each bar that reaches the jobs adds; bars that do not reach them cost none)."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    series = [load_candles(p) for p in files]
    warm = [s.between(START, START + timedelta(days=7)) for s in series]
    run_backtest(BacktestConfig(warm, settings, build_signals(settings, None)))
    result = run_backtest(BacktestConfig(series, settings, build_signals(settings, None)))
    stats = result.stats
    # Each scheduled run calls the risk and entry jobs; each risk tick (a handed bar's price
    # reaching a level) and each catch-up calls the risk job.
    runs = stats.scheduled_runs + stats.risk_ticks + stats.catch_up_ticks
    print(
        f"# measured: in process, {result.stats.bars:,} bars replayed; {stats.job_seconds:.2f} "
        f"s inside the real jobs over {runs} job runs ({stats.scheduled_runs} scheduled + "
        f"{stats.risk_ticks} risk ticks + {stats.catch_up_ticks} catch-ups)",
        file=sys.stderr,
    )
    return 1000 * stats.job_seconds / max(runs, 1)


if __name__ == "__main__":
    main()
