"""Start-up time of the command line: `qtbot --help`, whole process, as a user runs it.

Run from the repo root: `.venv/bin/python benchmarks/bench_startup.py [runs]`.
Prints exactly one stdout line, `cli_help_startup: <seconds> s` (the median of the runs);
the method goes to stderr. Target (issue 17): <= 0.3 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 15
WARMUP = 2  # the first runs fill the OS page cache and write .pyc files


def one_run() -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    for _ in range(WARMUP):
        one_run()
    times = [one_run() for _ in range(runs)]
    print(
        f"# method: `{Path(sys.executable).name} -m bot --help` in a fresh process, {runs} runs "
        f"after {WARMUP} warm-up runs, wall time (perf_counter) around subprocess.run; "
        f"min {min(times):.3f} s, max {max(times):.3f} s",
        file=sys.stderr,
    )
    print(f"cli_help_startup: {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
