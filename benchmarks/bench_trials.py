"""Parameter-study throughput: backtest trials per minute over the shared daily data.

How it measures: BTC/USDT and ETH/USDT daily candles of ../shared/data (2017-08 -> 2026-08,
3,276 days) with its Fed data, loaded once per process (`load_study_data`). Each trial is
`run_trial(data, settings)` over the whole span, exactly as `qtbot backtest` runs it, with
settings drawn from a fixed seeded list that varies what a sweep varies (take-profit tiers,
trailing stop, hard stop, tranche count, entry window, anti-chase threshold).

- `backtest_trial`: median wall time of one default-settings trial in this process, after a
  warm-up trial (which also builds the study's signals, cached for the later ones).
- `backtest_trial_cpu`: the median CPU time (the process's own seconds) of the same trials.
- `backtest_trials_default` (and its `_cpu_bound`): as `backtest_trials` below, DEFAULT_TRIALS
  trials all with the shipped settings: the workload issue #18 sets its target for (240
  trials/min).
- `backtest_trials`: TRIALS trials of the seeded list on a pool of WORKERS processes, each
  loading the data and warming up once before the clock starts; trials per minute of wall
  time, so it drops when other work shares the cores.
- `backtest_trials_cpu_bound`: trials/min = WORKERS x 60 / mean CPU seconds of those trials:
  what WORKERS otherwise idle cores would give when the machine is shared.
- `backtest_process`: wall time of the README's `qtbot backtest ... --json` command as a
  fresh process (imports, file reads, signals, one trial, JSON).

Run from the repo root: `python benchmarks/bench_trials.py`. stdout carries exactly the
figures as `name: value unit`; the method (how many trials, which settings, wall against CPU)
goes to stderr as `# ...` lines. Wall times include whatever else the machine runs. Sized to
finish in well under two minutes on a loaded 2-core machine (about 30 s idle): a handful of
trials gives the CPU figures to a few percent, because a trial's work does not vary run to run.
"""

from __future__ import annotations

import gc
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.backtest.study import StudyData, load_study_data, run_trial
from bot.config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CANDLES = (SHARED / "BTC_USDT-1d.csv", SHARED / "ETH_USDT-1d.csv")
WORKERS = 2
TRIALS = 12
# The default workload's batch: 12 a worker, so the wait for the last trial of a batch (up to
# one trial's time on one worker) weighs half as much as with 6.
DEFAULT_TRIALS = 24
SINGLE_RUNS = 3
TIERS = ("20:25,50:25", "10:30,30:30", "15:50", "25:25,60:25,100:25", "30:50")

_data: StudyData | None = None


def trial_settings(count: int, seed: int = 18) -> list[dict[str, Any]]:
    """The seeded settings of the timed trials (what a random search would draw)."""
    draw = random.Random(seed)
    return [
        {
            "risk": {
                "take_profit_tiers": draw.choice(TIERS),
                "trailing_stop_pct": draw.choice((8, 10, 15, 20, 25)),
                "stop_loss_pct": draw.choice((10, 15, 20, 30)),
            },
            "strategy": {
                "tranches": draw.randint(1, 8),
                "entry_window_days": draw.choice((7, 14, 21, 42)),
                "anti_chase_pct": draw.choice((10, 15, 30)),
            },
        }
        for _ in range(count)
    ]


def _load() -> None:
    global _data
    _data = load_study_data(CANDLES, SHARED)
    run_trial(_data, Settings())  # warm-up: imports, signals
    gc.freeze()  # as a sweep's worker does after its first trial (`bot.research.pool`)


def _trial(values: dict[str, Any]) -> float:
    """One trial in a worker; its CPU seconds."""
    assert _data is not None
    began = time.process_time()
    run_trial(_data, Settings(**values))
    return time.process_time() - began


def single_trial_seconds() -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of a default trial."""
    data = load_study_data(CANDLES, SHARED)
    run_trial(data, Settings())
    walls, cpus = [], []
    for _ in range(SINGLE_RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        run_trial(data, Settings())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def trials_per_minute(default: bool = False) -> tuple[float, float, float, float]:
    """(trials a minute of wall time, trials a minute the workers' CPU time allows, wall
    seconds of the batch, summed CPU seconds of its trials); `default`: every trial with the
    shipped settings (issue #18's workload) instead of the seeded varied ones."""
    settings = [{} for _ in range(DEFAULT_TRIALS)] if default else trial_settings(TRIALS)
    with ProcessPoolExecutor(WORKERS, initializer=_load) as pool:
        list(pool.map(_trial, trial_settings(WORKERS, seed=0)))  # every worker has loaded
        began = time.perf_counter()
        cpu = sum(pool.map(_trial, settings))
        elapsed = time.perf_counter() - began
    count = len(settings)
    return count / elapsed * 60, WORKERS * count / cpu * 60, elapsed, cpu


def process_seconds() -> float:
    command = [str(ROOT / ".venv" / "bin" / "qtbot"), "backtest"]
    for path in CANDLES:
        command += ["--candles", str(path)]
    command += ["--fed-data", str(SHARED), "--from", "2019-01-01", "--json"]
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - began


def main() -> int:
    if not all(path.exists() for path in CANDLES):
        print(f"# skipped: {', '.join(map(str, CANDLES))} not found", file=sys.stderr)
        return 0
    print(
        f"# measured: BTC+ETH daily {CANDLES[0].parent} (whole span) with its Fed data; "
        f"backtest_trial = median of {SINGLE_RUNS} default trials in-process after a warm-up; "
        f"backtest_trials = {TRIALS} seeded varied-settings trials (tiers, trailing, stop, "
        f"tranches, entry window, anti-chase) on {WORKERS} worker processes, data loaded and "
        "one warm-up trial per worker before the clock; backtest_process = the README's "
        "`qtbot backtest ... --from 2019-01-01 --json` as a fresh process",
        file=sys.stderr,
    )
    wall, cpu = single_trial_seconds()
    print(f"backtest_trial: {wall:.2f} s")
    print(f"backtest_trial_cpu: {cpu:.2f} s")
    print(
        f"# default trial: median of {SINGLE_RUNS}, {wall:.2f} s wall against {cpu:.2f} s CPU "
        "(a wall time above the CPU time = other work shared the core)",
        file=sys.stderr,
    )
    per_minute, cpu_bound, elapsed, spent = trials_per_minute(default=True)
    print(f"backtest_trials_default: {per_minute:.0f} trials/min")
    print(f"backtest_trials_default_cpu_bound: {cpu_bound:.0f} trials/min")
    print(
        f"# default trials: {DEFAULT_TRIALS} trials of the shipped settings on {WORKERS} "
        f"workers: {elapsed:.1f} s wall, {spent:.1f} s CPU in all, "
        f"{spent / DEFAULT_TRIALS:.2f} s CPU a trial",
        file=sys.stderr,
    )
    per_minute, cpu_bound, elapsed, spent = trials_per_minute()
    print(f"backtest_trials: {per_minute:.0f} trials/min")
    print(f"backtest_trials_cpu_bound: {cpu_bound:.0f} trials/min")
    print(
        f"# varied trials: {TRIALS} seeded settings (seed 18: tiers from {len(TIERS)} sets, "
        "trailing 8-25 %, stop 10-30 %, 1-8 tranches, 7-42 day window, anti-chase 10-30 %) on "
        f"{WORKERS} workers: {elapsed:.1f} s wall, {spent:.1f} s CPU in all, "
        f"{spent / TRIALS:.2f} s CPU a trial",
        file=sys.stderr,
    )
    if (ROOT / ".venv" / "bin" / "qtbot").exists():
        print(f"backtest_process: {process_seconds():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
