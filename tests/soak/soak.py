"""Long run: one `qtbot run` for N simulated days on an accelerated clock, resources sampled.

The loopback Binance emulator serves a seeded random-walk market (paper mode: public data for
the paper engine; testnet mode: the venue itself). Every few wall seconds the soak samples the
daemon's RSS (VmRSS in /proc/PID/status), the database size (file + WAL), journal rows and log
bytes; the heartbeat log lines give the job lag (gap between beats minus the expected wall
interval). At the end the daemon is stopped with SIGTERM (exit 0 expected) and a report is
printed. It fails when:

- RSS grows more than `--max-rss-growth-pct` (and more than 16 MB) from the first third of the
  run to the last third (mean of the samples in each);
- the database grows super-linearly: the last third adds more than 1.5x the middle third
  (plus 256 KB of slack for WAL checkpoints);
- the daemon dies, or does not stop cleanly.

Run: `python -m tests.soak.soak --days 30` (`make soak`; about 15 minutes at the default
3000x). tests/soak/test_soak_judge.py checks the verdicts on synthetic samples.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import qtbot_cmd, subprocess_env
from tests.emulator.client import EmulatorHandle, start_emulator

DAY = 86_400.0
START_PRICES = {"BTC/USDT": 50_000.0, "ETH/USDT": 3_000.0}
HEARTBEAT_WALL_SECONDS = 1.0
MIN_RSS_GROWTH_BYTES = 16 * 1024 * 1024
DB_SLACK_BYTES = 256 * 1024


class RandomWalk(threading.Thread):
    """Geometric random walk per symbol, `daily_vol` per simulated day, with a small drift
    upwards so tiers fire now and then; the book is re-scripted every `step` wall seconds."""

    def __init__(
        self,
        emulator: EmulatorHandle,
        speed: float,
        seed: int,
        daily_vol: float = 0.05,
        daily_drift: float = 0.004,
        step: float = 0.1,
    ) -> None:
        super().__init__(daemon=True)
        self.emulator, self.step = emulator, step
        self.rng = random.Random(seed)
        steps_per_day = DAY / speed / step
        self.sigma = daily_vol / math.sqrt(steps_per_day)
        self.mu = daily_drift / steps_per_day
        self.prices = dict(START_PRICES)
        self.halt = threading.Event()

    def move(self) -> None:
        for symbol, price in self.prices.items():
            price *= math.exp(self.mu + self.rng.gauss(0.0, self.sigma))
            self.prices[symbol] = price
            bid = Decimal(str(price)).quantize(Decimal("0.01"))
            self.emulator.set_market(symbol, bid, bid + Decimal("0.5"), qty="5")

    def run(self) -> None:
        while not self.halt.wait(self.step):
            self.move()


@dataclass
class Sample:
    wall: float
    sim_days: float
    rss_bytes: int
    db_bytes: int
    wal_bytes: int
    journal_rows: int
    log_bytes: int


@dataclass
class SoakReport:
    days: float
    speed: float
    mode: str
    samples: list[Sample] = field(default_factory=list)
    heartbeat_lag: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    exit_status: int | None = None


def heartbeat_seconds(speed: float) -> int:
    """Simulated heartbeat interval giving about one beat per wall second (within bounds)."""
    return int(min(3600, max(1, HEARTBEAT_WALL_SECONDS * speed)))


def soak_env(emulator: EmulatorHandle, speed: float, mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env.update(subprocess_env())
    env.update(
        {
            "QTBOT_EXCHANGE__MODE": mode,
            "QTBOT_EXCHANGE__ID": "binance",
            "QTBOT_EXCHANGE__REST_URL": emulator.url,
            "QTBOT_EXCHANGE__TIMEOUT_SECONDS": "5",
            "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
            "QTBOT_DAEMON__CLOCK_SPEED": str(speed),
            "QTBOT_DAEMON__HEARTBEAT_SECONDS": str(heartbeat_seconds(speed)),
            "QTBOT_STRATEGY__BUDGET": "3000",
            "QTBOT_STRATEGY__ENTRY_WINDOW_DAYS": "3",
            "QTBOT_STRATEGY__CYCLE_COOLDOWN_DAYS": "1",
            "QTBOT_STRATEGY__FOMC_BLACKOUT_HOURS": "0",
            "QTBOT_RISK__TRAILING_STOP_PCT": "8",
            "QTBOT_LOG__FORMAT": "json",
            "QTBOT_LOG__LEVEL": "INFO",
        }
    )
    if mode == "testnet":
        env["QTBOT_EXCHANGE__API_KEY"] = emulator.api_key
        env["QTBOT_EXCHANGE__SECRET"] = emulator.api_secret
    return env


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def db_stats(db: Path) -> tuple[int, int, int]:
    """(logical database bytes as a reader sees them, WAL file bytes, journal rows).

    The logical size (page_count x page_size, WAL frames included) is what the data take; the
    files alone mislead, as the WAL grows to its checkpoint size and is then reused."""
    wal = Path(f"{db}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    if not db.exists():
        return 0, wal_bytes, 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
            size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            rows = int(conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1, wal_bytes, -1
    return pages * size, wal_bytes, rows


def heartbeat_lag(log: Path, expected: float) -> dict[str, float]:
    """Gaps between heartbeat log lines minus the expected wall interval, in seconds."""
    stamps = []
    for line in log.read_text(errors="replace").splitlines():
        if '"heartbeat"' in line:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "heartbeat":
                stamps.append(datetime.fromisoformat(event["timestamp"]).timestamp())
    lags = sorted(max(0.0, b - a - expected) for a, b in itertools.pairwise(stamps))
    if not lags:
        return {"beats": float(len(stamps))}
    return {
        "beats": float(len(stamps)),
        "p50_s": round(lags[len(lags) // 2], 3),
        "p95_s": round(lags[int(len(lags) * 0.95)], 3),
        "max_s": round(lags[-1], 3),
    }


def _third_means(values: list[float]) -> tuple[float, float]:
    third = max(1, len(values) // 3)
    return statistics.fmean(values[:third]), statistics.fmean(values[-third:])


def judge(report: SoakReport, max_rss_growth_pct: float) -> None:
    samples = report.samples[1:]  # the first sample is taken while the daemon starts up
    if len(samples) < 6:
        report.violations.append(f"only {len(samples)} samples: the run was too short to judge")
        return
    first, last = _third_means([float(s.rss_bytes) for s in samples])
    growth = last - first
    report.figures["rss_first_third_mb"] = round(first / 2**20, 1)
    report.figures["rss_last_third_mb"] = round(last / 2**20, 1)
    report.figures["rss_growth_pct"] = round(100 * growth / first, 1)
    if growth > MIN_RSS_GROWTH_BYTES and 100 * growth / first > max_rss_growth_pct:
        report.violations.append(
            f"RSS grew {growth / 2**20:.1f} MB ({100 * growth / first:.0f} %) from the first "
            f"third to the last; bound {max_rss_growth_pct} %"
        )
    third = len(samples) // 3
    middle = samples[2 * third - 1].db_bytes - samples[third - 1].db_bytes
    end = samples[-1].db_bytes - samples[2 * third - 1].db_bytes
    report.figures["db_growth_middle_third_kb"] = round(middle / 1024, 1)
    report.figures["db_growth_last_third_kb"] = round(end / 1024, 1)
    if end > 1.5 * max(middle, 0) + DB_SLACK_BYTES:
        report.violations.append(
            f"database grows super-linearly: last third +{end / 1024:.0f} KB, "
            f"middle third +{middle / 1024:.0f} KB"
        )


def run_soak(
    workdir: Path,
    days: float,
    *,
    speed: float = 3000.0,
    mode: str = "paper",
    seed: int = 11,
    sample_seconds: float = 5.0,
    max_rss_growth_pct: float = 25.0,
    verbose: bool = False,
) -> SoakReport:
    workdir.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator()
    emulator.set_balances(USDT="10000", BTC="0", ETH="0", SOL="0")
    walk = RandomWalk(emulator, speed, seed)
    walk.move()
    walk.start()
    report = SoakReport(days=days, speed=speed, mode=mode)
    log = workdir / "daemon.log"
    db = workdir / "data" / "qtbot.sqlite"
    wall_seconds = days * DAY / speed
    try:
        with log.open("w") as stderr:
            proc = subprocess.Popen(
                qtbot_cmd("run"),
                cwd=workdir,
                env=soak_env(emulator, speed, mode),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            start = time.monotonic()
            try:
                while (elapsed := time.monotonic() - start) < wall_seconds:
                    if proc.poll() is not None:
                        report.violations.append(f"the daemon exited with {proc.returncode}")
                        break
                    size, wal, journal = db_stats(db)
                    sample = Sample(
                        wall=round(elapsed, 1),
                        sim_days=round(elapsed * speed / DAY, 2),
                        rss_bytes=rss_bytes(proc.pid),
                        db_bytes=size,
                        wal_bytes=wal,
                        journal_rows=journal,
                        log_bytes=log.stat().st_size,
                    )
                    report.samples.append(sample)
                    if verbose:
                        print(json.dumps(asdict(sample)), file=sys.stderr)
                    time.sleep(min(sample_seconds, max(0.0, wall_seconds - elapsed)))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    report.exit_status = proc.wait(timeout=60)
                    if report.exit_status != 0:
                        report.violations.append(f"SIGTERM ended it with {report.exit_status}")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        expected = max(0.2, heartbeat_seconds(speed) / speed)  # the daemon's own floor
        report.heartbeat_lag = heartbeat_lag(log, expected)
        _final_figures(report, db, log)
        judge(report, max_rss_growth_pct)
    finally:
        walk.halt.set()
        emulator.stop()
    return report


def _final_figures(report: SoakReport, db: Path, log: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        counts = {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("journal", "order_intent", "fill", "kv")
        }
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM journal GROUP BY kind").fetchall())
    finally:
        conn.close()
    events: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            name = str(json.loads(line).get("event", "?"))
        except json.JSONDecodeError:
            continue
        key = "scheduler: skipped (job still running)" if "skipped: maximum" in name else name
        events[key] = events.get(key, 0) + 1
    last = report.samples[-1] if report.samples else None
    report.figures.update(
        rows=counts,
        journal_kinds=kinds,
        log_events_top=dict(sorted(events.items(), key=lambda kv: -kv[1])[:8]),
        db_bytes_end=db_stats(db)[0],
        db_file_bytes_end=db.stat().st_size,
        log_bytes_end=log.stat().st_size,
        sim_days_run=last.sim_days if last else 0,
        rss_start_mb=round(report.samples[1].rss_bytes / 2**20, 1)
        if len(report.samples) > 1
        else None,
        rss_end_mb=round(last.rss_bytes / 2**20, 1) if last else None,
    )


def format_report(report: SoakReport, rows: int = 12) -> str:
    step = max(1, len(report.samples) // rows)
    lines = [
        f"soak: {report.days} simulated days at {report.speed:g}x ({report.mode} mode)",
        "| wall s | sim days | RSS MB | DB KB | WAL KB | journal rows | log KB |",
        "|---|---|---|---|---|---|---|",
    ]
    chosen = report.samples[::step]
    if report.samples and chosen[-1] is not report.samples[-1]:
        chosen.append(report.samples[-1])
    for s in chosen:
        lines.append(
            f"| {s.wall} | {s.sim_days} | {s.rss_bytes / 2**20:.1f} | {s.db_bytes / 1024:.0f} "
            f"| {s.wal_bytes / 1024:.0f} | {s.journal_rows} | {s.log_bytes / 1024:.0f} |"
        )
    lines.append(f"heartbeat lag: {report.heartbeat_lag}")
    lines.append(json.dumps(report.figures, indent=2, default=str))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--speed", type=float, default=3000.0)
    parser.add_argument("--mode", choices=("paper", "testnet"), default="paper")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--max-rss-growth-pct", type=float, default=25.0)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="qtbot-soak-"))
    report = run_soak(
        workdir,
        args.days,
        speed=args.speed,
        mode=args.mode,
        seed=args.seed,
        sample_seconds=args.sample_seconds,
        max_rss_growth_pct=args.max_rss_growth_pct,
        verbose=True,
    )
    print(format_report(report))
    print(json.dumps({"workdir": str(workdir), "violations": report.violations}, indent=2))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
