"""Crash campaign with the exchange stop on: SIGKILLs timed around the stop's own requests.

The crash campaign's set-up (testnet mode on the loopback Binance emulator, accelerated clock,
market driver through chop, tiers and a trailing fall), but each run is killed while one of
the stop's requests is in flight: the first (or second) placement of a STOP_LOSS_LIMIT,
cancelReplace that moves or shrinks the stop, or cancel to come after READY. Each kind is
held, by a coin toss per run, before the venue processes it (processed `BEFORE_DELAY` s later,
the daemon dead by then) or after (the venue acted, its answer held back). A run in which no
such request came within `FALLBACK` start-up times is killed then.

Measured, besides the crash campaign's invariants (`check_invariants`: no client id sent
twice, every venue trade recorded once, store == venue):

- max live stops per position: the most STOP_LOSS_LIMIT orders open at once on one symbol,
  exactly, from the venue's order history (placed/ended times);
- longest unprotected interval while the daemon runs: sampled every `SAMPLE_SECONDS` from the
  emulator's state, the longest stretch in which a daemon was up (READY, not yet killed), a
  holding large enough for a stop was there and no stop rested for it; in wall seconds and in
  risk-job runs counted from the daemon's store (under the accelerated clock a run takes
  longer than its nominal 0.2 s: ccxt paces the requests), with what ended it. A limit
  tranche can fill at the venue while a run values the book: the next run records the fill
  and places the stop, so two runs is the bound;
- oversells: sell orders (including a cancelReplace's new stop) the venue refused for
  insufficient balance; a position sold beyond its holding would show up there first.

Run: `python -m tests.chaos.stop_campaign --runs 20`; a slice runs in the suite
(tests/chaos/test_stop_campaign.py).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.campaign import (
    START_USDT,
    MarketDriver,
    Report,
    bot_env,
    check_invariants,
)
from tests.conftest import qtbot_cmd
from tests.daemon_process import DEADLINE, ReadySignal, query
from tests.emulator.client import EmulatorHandle, start_emulator
from tests.emulator.engine import INSUFFICIENT, Engine

ORDER, REPLACE = "/api/v3/order", "/api/v3/order/cancelReplace"
CHECK_SECONDS = 600  # of the accelerated clock: a risk tick every 0.2 s of wall time at most
BEFORE_DELAY = 0.4  # a "before" request waits this long at the venue, then is processed
AFTER_HOLD = 30.0  # an "after" request's answer is held this long (past the kill)
SAMPLE_SECONDS = 0.02
# Start-up times after READY a run waits for a stop request before it is killed anyway: the
# first risk tick alone takes about one start-up time here (ccxt paces its requests).
FALLBACK = (1.5, 3.0)
SETTLE_PASSES = 1
# Until the venue has seen a first stop, a run waits this many times longer for its request.
FIRST_STOP_WAIT = 3
# A holding worth less than this at the bid gets no stop (the venue's 5 USDT minimum at the
# stop's limit, 20 % below): not counted as unprotected.
PROTECTABLE_USDT = Decimal(10)


@dataclass(frozen=True)
class StopRequest:
    """One kind of request the exchange stop makes, as an emulator fault can match it."""

    name: str
    method: str
    path: str
    params: dict[str, str] | None = None

    def fault(self, after: bool, skip: int) -> dict[str, Any]:
        """Hold the `skip`+1-th such request: before the venue acts (it acts `BEFORE_DELAY`
        s later, the daemon dead by then) or after (its answer held back)."""
        extra = {"params": self.params} if self.params else {}
        return {
            "kind": "timeout" if after else "latency",
            "method": self.method,
            "path": self.path,
            "delay": AFTER_HOLD if after else BEFORE_DELAY,
            "skip": skip,
            **extra,
        }


STOP_REQUESTS = (
    StopRequest("place", "POST", ORDER, {"type": "STOP_LOSS_LIMIT"}),
    StopRequest("move", "POST", REPLACE),
    StopRequest("cancel", "DELETE", ORDER),  # before an exit; tranche cancels match too
)


@dataclass(frozen=True)
class Stretch:
    """A holding without a resting stop while a daemon was up: how long, through how many
    risk-job runs (book valuations begun and finished within it), and what ended it ("a stop
    rested", "the holding was sold", "the daemon was killed")."""

    symbol: str
    seconds: float
    risk_runs: int
    ended_by: str


@dataclass(eq=False)  # a thread: hashed by identity
class ProtectionMonitor(threading.Thread):
    """Samples the emulator's own state: per symbol, whether a holding large enough for a stop
    rests without one while a daemon is up; every such stretch. Risk-job runs are counted
    from the daemon's store (each run's valuation rewrites the last prices)."""

    engine: Engine
    db: Path
    running: threading.Event = field(default_factory=threading.Event)
    halt: threading.Event = field(default_factory=threading.Event)
    stretches: list[Stretch] = field(default_factory=list)
    risk_runs: int = 0
    _last_prices_at: Any = None
    _since: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        while not self.halt.wait(SAMPLE_SECONDS):
            self._count_risk_runs()
            now = time.monotonic()
            exposed, stopped = self._look() if self.running.is_set() else (set(), set())
            for symbol in list(self._since):
                if symbol not in exposed:
                    why = "a stop rested" if symbol in stopped else "the holding was sold"
                    self._close(symbol, now, why)
            for symbol in exposed:
                self._since.setdefault(symbol, (now, self.risk_runs))

    def pause(self) -> None:
        """The daemon is about to die: open stretches end here."""
        self.running.clear()
        now = time.monotonic()
        for symbol in list(self._since):
            self._close(symbol, now, "the daemon was killed")

    def longest(self, ended_by: str | None = None, by: str = "seconds") -> Stretch:
        found = [s for s in self.stretches if ended_by is None or s.ended_by == ended_by]
        return max(found, key=lambda s: getattr(s, by), default=Stretch("", 0.0, 0, "none"))

    def _count_risk_runs(self) -> None:
        rows = query(self.db, "SELECT updated_at FROM kv WHERE key = 'risk.last_prices'")
        at = rows[0][0] if rows else None
        if at is not None and at != self._last_prices_at:
            self._last_prices_at = at
            self.risk_runs += 1

    def _close(self, symbol: str, now: float, why: str) -> None:
        since, runs = self._since.pop(symbol)
        stretch = Stretch(symbol, round(now - since, 3), self.risk_runs - runs, why)
        self.stretches.append(stretch)

    def _look(self) -> tuple[set[str], set[str]]:
        """(symbols holding enough for a stop without one, symbols with a stop resting)."""
        engine = self.engine
        with engine.lock:
            stopped = {
                o.symbol
                for o in engine.orders.values()
                if o.is_open and o.type == "STOP_LOSS_LIMIT"
            }
            exposed = set()
            for symbol, book in engine.books.items():
                base = symbol.removesuffix("USDT")
                held = sum(engine.balances.get(base, [Decimal(0), Decimal(0)]))
                bid = book.best_bid or Decimal(0)
                if held * bid >= PROTECTABLE_USDT and symbol not in stopped:
                    exposed.add(symbol)
            return exposed, stopped


def max_live_stops(orders: list[dict[str, Any]]) -> int:
    """The most STOP_LOSS_LIMIT orders open at once on one symbol (venue times, exact)."""
    events: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for o in orders:
        if o["type"] != "STOP_LOSS_LIMIT":
            continue
        ended = o["status"] not in ("NEW", "PARTIALLY_FILLED")
        events[o["symbol"]].append((o["time"], 1))
        if ended:
            events[o["symbol"]].append((o["updateTime"], -1))
    most = 0
    for rows in events.values():
        live = 0
        for _, step in sorted(rows):  # an end at the same ms as a start is counted first
            live += step
            most = max(most, live)
    return most


def oversells(requests: list[dict[str, Any]]) -> int:
    """Sell orders the venue refused for the balance (a plain order, or a cancelReplace whose
    new order was refused so)."""
    return sum(
        1
        for r in requests
        if r.get("side") == "SELL" and INSUFFICIENT in (r.get("msg"), r.get("new_msg"))
    )


@dataclass
class StopReport(Report):
    kill_points: list[str] = field(default_factory=list)


def run_stop_campaign(runs: int, workdir: Path, seed: int = 5, verbose: bool = False) -> StopReport:
    rng = random.Random(seed)
    emulator = start_emulator()
    emulator.set_balances(USDT=str(START_USDT), BTC="0", ETH="0", SOL="0")
    driver = MarketDriver(emulator, time.monotonic(), seed)
    driver.start()
    monitor = ProtectionMonitor(emulator.server.engine, workdir / "data" / "qtbot.sqlite")
    monitor.start()
    env = {
        **bot_env(emulator, datetime.now(UTC)),
        "QTBOT_RISK__EXCHANGE_STOP": "true",
        "QTBOT_RISK__CHECK_SECONDS": str(CHECK_SECONDS),
    }
    report = StopReport()
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    startups: list[float] = []
    try:
        for index in range(runs):
            plan = KillPlan(
                after={r.name: rng.random() < 0.5 for r in STOP_REQUESTS},
                skip=rng.randrange(2),
                lag=rng.uniform(0, 0.75),
                fallback=rng.uniform(*FALLBACK),
            )
            status, log, at = _run(index, workdir, env, logs, emulator, monitor, plan, startups)
            report.kill_points.append(at)
            if status == "killed":
                report.kills += 1
            elif status != 0:
                report.violations.append(f"run {index}: {status}: {log[-500:]}")
            else:
                report.clean_exits += 1
            report.runs += 1
            if verbose:
                print(f"run {index + 1}/{runs}: {status} ({at})", file=sys.stderr)
        driver.halt.set()
        driver.join()
        monitor.halt.set()
        monitor.join()
        _settle(workdir, env, logs, report)
        check_invariants(emulator, workdir / "data" / "qtbot.sqlite", report)
        state = emulator.state()
        longest, most_runs = monitor.longest(), monitor.longest(by="risk_runs")
        until_stop = monitor.longest("a stop rested")
        report.figures.update(
            max_live_stops_per_position=max_live_stops(state["orders"]),
            longest_unprotected_seconds=longest.seconds,
            longest_unprotected_risk_runs=most_runs.risk_runs,
            longest_unprotected=f"{longest.symbol}, {longest.risk_runs} risk-job runs, "
            f"ended: {longest.ended_by}",
            longest_until_a_stop_rested_seconds=until_stop.seconds,
            unprotected_stretches=len(monitor.stretches),
            risk_job_runs=monitor.risk_runs,
            oversells=oversells(state["requests"]),
            stop_orders=sum(1 for o in state["orders"] if o["type"] == "STOP_LOSS_LIMIT"),
            stop_moves=sum(1 for r in state["requests"] if r["path"] == REPLACE),
            kills_at_a_stop_request=sum(1 for p in report.kill_points if "fallback" not in p),
            startup_seconds=sorted(round(s, 1) for s in startups),
        )
    finally:
        driver.halt.set()
        monitor.halt.set()
        emulator.stop()
    return report


@dataclass(frozen=True)
class KillPlan:
    """When a run dies: `lag` (a fraction of `BEFORE_DELAY`) after the `skip`+1-th request of
    the first kind of stop request to come (each held before or after the venue acts, as
    `after` says), or `fallback` start-up times after READY when none comes."""

    after: dict[str, bool]
    skip: int
    lag: float
    fallback: float


def _run(
    index: int,
    workdir: Path,
    env: dict[str, str],
    logs: Path,
    emulator: EmulatorHandle,
    monitor: ProtectionMonitor,
    plan: KillPlan,
    startups: list[float],
) -> tuple[int | str, str, str]:
    """One `qtbot run`, killed on `plan`: (status, stderr, what it was killed around)."""
    ready = ReadySignal()
    log = logs / f"run-{index:03d}.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            qtbot_cmd("run"),
            cwd=workdir,
            env={**env, **ready.env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    spawned = time.monotonic()
    at = "no kill"
    try:
        if not ready.wait(proc):
            status = proc.poll()
            return status if status is not None else "never ready", _text(log), at
        startups.append(time.monotonic() - spawned)
        monitor.running.set()
        for request in STOP_REQUESTS:
            emulator.add_fault(**request.fault(plan.after[request.name], plan.skip))
        wait = plan.fallback * statistics.median(startups)
        if not any(o["type"] == "STOP_LOSS_LIMIT" for o in emulator.state()["orders"]):
            wait *= FIRST_STOP_WAIT  # no position yet: its tranches must fill first
        taken = _wait_taken(emulator, proc, wait)
        if taken is not None:
            time.sleep(plan.lag * BEFORE_DELAY)
            at = f"{taken} {'after' if plan.after[taken] else 'before'} the venue acted"
        else:
            at = "fallback: no stop request came"
        monitor.pause()
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=DEADLINE)
    finally:
        monitor.pause()
        emulator.clear_faults()
        ready.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    status_: int | str = "killed" if proc.returncode == -signal.SIGKILL else proc.returncode
    return status_, _text(log), at


def _text(log: Path) -> str:
    return log.read_text(errors="replace")


def _wait_taken(
    emulator: EmulatorHandle, proc: subprocess.Popen[bytes], seconds: float
) -> str | None:
    """The kind of stop request whose fault met its request first (it is in flight), or None
    when the daemon exits or `seconds` pass: the kill schedule itself, not a readiness wait."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        armed = {
            (f["method"], f["path"], bool(f["params"])) for f in emulator.server.faults.as_json()
        }
        for request in STOP_REQUESTS:
            if (request.method, request.path, bool(request.params)) not in armed:
                return request.name
        time.sleep(0.005)
    return None


def _settle(workdir: Path, env: dict[str, str], logs: Path, report: Report) -> None:
    """One pass of every job with entries paused (the market is still by then): its reconcile
    resolves what the last kill left unknown, its risk check records what it sells."""
    settle = {**env, "QTBOT_RISK__RISK_OFF": "true"}
    for index in range(SETTLE_PASSES):
        result = subprocess.run(
            qtbot_cmd("run", "--once"),
            cwd=workdir,
            env=settle,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        (logs / f"settle-{index}.log").write_text(result.stderr)
        if result.returncode != 0:
            report.violations.append(f"settle run failed: {result.stderr[-800:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="qtbot-stop-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report = run_stop_campaign(args.runs, workdir, args.seed, verbose=True)
    summary = {
        "runs": report.runs,
        "sigkills": report.kills,
        "clean_exits": report.clean_exits,
        "violations": report.violations,
        "kill_points": report.kill_points,
        "seconds": round(time.monotonic() - started, 1),
        **report.figures,
    }
    print(json.dumps(summary, indent=2))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
