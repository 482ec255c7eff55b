"""Crash campaign: SIGKILL a real `qtbot run` at random moments, restart it, check nothing is lost.

Two modes, one timeline each: an accelerated clock anchored to the campaign's start (so every
restart continues the same simulated time) and a market driver moving the loopback Binance
emulator's prices so that tranches fill, tiers fire and stops trail.

- `testnet`: the bot trades on the emulator (a separate venue with its own books, balances and
  request log). Invariants: no client order id sent to the venue more than once; every venue
  trade of our orders recorded exactly once, and nothing else; each position (from the store's
  fills) equals the venue's balance change.
- `paper`: the emulator only serves public market data; the paper engine's ledger (tables
  paper_order / paper_fill / paper_balance in the same SQLite file) is the venue. Invariants in
  `tests.chaos.paper_invariants`: no client id accepted twice, every paper fill recorded once
  in `fill`, positions (and cash) equal paper balances.

Both: no tranche bought more than its share, no take-profit tier sold twice, SQLite's integrity
check passes. After the runs, two reconcile-only passes settle the store before the checks.

Kill schedule: the first run is killed after its readiness signal (READY=1 on $NOTIFY_SOCKET,
see tests/daemon_process.py), and each start-up time is measured. A fifth of the later runs
are killed during start-up (a fraction of the measured start-up time after spawn), the rest a
random 0.5-3 start-up times after READY: on a loaded machine the daemon gets proportionally
more wall time, so the campaign trades as much there as on an idle one.

Run: `python -m tests.chaos.campaign --runs 200 [--mode paper]` (also `make chaos`); slices
run in the suite (tests/e2e/test_crash_restart.py, tests/chaos/test_paper_campaign.py).
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.paper_invariants import check_paper_invariants
from tests.chaos.shared_checks import START_USDT, Report, check_causes, check_tranche_shares
from tests.conftest import qtbot_cmd, subprocess_env
from tests.daemon_process import DEADLINE, ReadySignal
from tests.emulator.client import EmulatorHandle, start_emulator

SPEED = 3000  # one simulated day = 28.8 s of wall time
BASES = {"BTC/USDT": Decimal(50000), "ETH/USDT": Decimal(3000)}


def price_factor(t: float) -> float:
    """Market path (multiple of the start price) at `t` wall seconds, period 40 s: chop so
    limit tranches fill, a rally through both tiers, a pullback that trips the trailing stop."""
    t %= 40.0
    if t < 10:
        return 1 + 0.01 * math.sin(t * 3)
    if t < 20:
        return 1 + 0.6 * (t - 10) / 10
    if t < 25:
        return 1.6 + 0.01 * math.sin(t * 5)
    if t < 30:
        return 1.6 - 0.4 * (t - 25) / 5
    return 1.2 - 0.2 * (t - 30) / 10


class MarketDriver(threading.Thread):
    def __init__(self, emulator: EmulatorHandle, t0: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.emulator, self.t0 = emulator, t0
        self.rng = random.Random(seed)
        self.halt = threading.Event()
        self.bias = 1.0  # a multiplier the fault campaign uses to push the market through limits

    def run(self) -> None:
        while not self.halt.wait(0.1):
            factor = price_factor(time.monotonic() - self.t0) * self.bias
            for symbol, base in BASES.items():
                noise = 1 + self.rng.uniform(-0.001, 0.001)
                bid = (base * Decimal(str(factor * noise))).quantize(Decimal("0.01"))
                try:
                    # The last trade moves with the book, as on a venue: a stop is refused
                    # when the last price is already at its trigger (`exchanges.ccxt.session`).
                    self.emulator.set_market(symbol, bid, bid + Decimal("0.5"), qty="5", last=bid)
                except OSError:
                    continue  # a call slowed past its timeout on a loaded machine: next tick


MODES = ("testnet", "paper")

# The kill schedule, in units of the measured start-up time (spawn to READY).
STARTUP_KILL_SHARE = 0.2
DURING_STARTUP = (0.1, 1.0)  # after spawn
AFTER_READY = (0.5, 3.0)


def bot_env(emulator: EmulatorHandle, anchor: datetime, mode: str = "testnet") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env.update(subprocess_env())
    env.update(
        {
            "QTBOT_EXCHANGE__MODE": mode,
            "QTBOT_EXCHANGE__ID": "binance",
            "QTBOT_EXCHANGE__REST_URL": emulator.url,
            "QTBOT_EXCHANGE__TIMEOUT_SECONDS": "3",
            "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
            "QTBOT_DAEMON__CLOCK_SPEED": str(SPEED),
            "QTBOT_DAEMON__CLOCK_START": anchor.isoformat(),
            "QTBOT_DAEMON__RECONCILE_MINUTES": "10",
            "QTBOT_STRATEGY__BUDGET": "2000",
            "QTBOT_STRATEGY__ENTRY_WINDOW_DAYS": "1",
            "QTBOT_STRATEGY__ENTRY_CHECK_MINUTES": "30",
            "QTBOT_STRATEGY__REPRICE_AFTER_HOURS": "2",
            "QTBOT_STRATEGY__FOMC_BLACKOUT_HOURS": "0",
            "QTBOT_STRATEGY__ANTI_CHASE_PCT": "off",
            "QTBOT_STRATEGY__CYCLE_COOLDOWN_DAYS": "0.2",
            "QTBOT_RISK__CHECK_SECONDS": "600",
            "QTBOT_RISK__TRAILING_STOP_PCT": "10",
            # Arm after the last tier: the chop must let tranches fill and tiers fire before
            # a stop ends the cycle (from entry, a 10 % dip ends it after the first fill).
            "QTBOT_RISK__TRAILING_ARM_AFTER_TIERS": "last",
            "QTBOT_LOG__FORMAT": "json",
            "QTBOT_LOG__LEVEL": "WARNING",
        }
    )
    if mode == "testnet":
        env["QTBOT_EXCHANGE__API_KEY"] = emulator.api_key
        env["QTBOT_EXCHANGE__SECRET"] = emulator.api_secret
    else:
        env["QTBOT_EXCHANGE__PAPER_STARTING_BALANCE"] = f"USDT:{START_USDT}"
        env["QTBOT_EXCHANGE__PAPER_MATCH_SECONDS"] = "600"
        # INFO: the paper engine's `paper_order_accepted` lines are one of the records checked.
        env["QTBOT_LOG__LEVEL"] = "INFO"
        env["QTBOT_DAEMON__HEARTBEAT_SECONDS"] = "3600"
    return env


def run_campaign(
    runs: int,
    workdir: Path,
    seed: int = 7,
    verbose: bool = False,
    mode: str = "testnet",
    min_fills: int = 0,
) -> Report:
    """`runs` runs on the kill schedule, then more (up to as many again) until the venue holds
    `min_fills` fills of ours: how much a run trades depends on the wall time a loaded machine
    gives it, so a slice waits for the trading it needs to prove anything rather than
    assuming a run count buys it. Falling short of `min_fills` is reported as a violation."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    rng = random.Random(seed)
    emulator = start_emulator()
    emulator.set_balances(USDT=str(START_USDT), BTC="0", ETH="0", SOL="0")
    anchor = datetime.now(UTC)
    driver = MarketDriver(emulator, time.monotonic(), seed)
    driver.start()
    env = bot_env(emulator, anchor, mode)
    report = Report()
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    startups: list[float] = []
    try:
        db = workdir / "data" / "qtbot.sqlite"
        index = 0
        while index < runs or (index < 2 * runs and _venue_fills(emulator, db, mode) < min_fills):
            # Drawn every run, so the schedule's shape does not depend on the machine's speed.
            early, during, after = (
                rng.random() < STARTUP_KILL_SHARE,
                rng.uniform(*DURING_STARTUP),
                rng.uniform(*AFTER_READY),
            )
            status, log = _run_and_kill(index, workdir, env, logs, early, during, after, startups)
            if status == "killed":
                report.kills += 1
            elif status != 0:
                report.violations.append(f"run {index}: {status}: {log[-500:]}")
            else:
                report.clean_exits += 1
            report.runs += 1
            if verbose:
                print(f"run {index + 1}/{runs}: {status}", file=sys.stderr)
            index += 1
        traded = _venue_fills(emulator, db, mode)
        if traded < min_fills:
            report.violations.append(
                f"the venue holds {traded} fills after {index} runs, {min_fills} wanted: "
                "the campaign proved too little"
            )
        report.figures["startup_seconds"] = sorted(round(s, 1) for s in startups)
        driver.halt.set()
        driver.join()
        settle = {**env, "QTBOT_RISK__RISK_OFF": "true"}
        for index in range(2):
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
        if mode == "testnet":
            check_invariants(emulator, db, report)
        else:
            check_paper_invariants(db, logs, report)
    finally:
        driver.halt.set()
        emulator.stop()
    return report


def _venue_fills(emulator: EmulatorHandle, db: Path, mode: str) -> int:
    """Fills the venue holds so far, read between runs (no daemon is alive then). Only the
    bot trades on the emulator: the market driver moves books, it places no orders."""
    if mode == "testnet":
        return len(emulator.state()["trades"])
    if not db.exists():
        return 0
    # Read-only: a plain connection could recover and merge the killed daemon's WAL, which the
    # next run must meet as the crash left it.
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM paper_fill").fetchone()[0])
    except sqlite3.OperationalError:  # killed before the paper tables were created
        return 0
    finally:
        conn.close()


def _run_and_kill(
    index: int,
    workdir: Path,
    env: dict[str, str],
    logs: Path,
    early: bool,
    during: float,
    after: float,
    startups: list[float],
) -> tuple[int | str, str]:
    """One `qtbot run`, SIGKILLed on the schedule (see the module doc); appends its start-up
    time to `startups` when it became ready. ("killed" or the exit status or what went wrong,
    its stderr)."""
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
    problem = None
    try:
        if early and startups:
            _live(proc, during * statistics.median(startups))
        elif ready.wait(proc):
            startups.append(time.monotonic() - spawned)
            _live(proc, after * statistics.median(startups))
        elif proc.poll() is None:
            problem = f"not ready within {DEADLINE:.0f} s"
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=DEADLINE)
    finally:
        ready.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    if problem is not None:
        return problem, text
    return ("killed" if killed else proc.returncode), text


def _live(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Let `proc` run until its kill moment: the schedule itself, not a wait for anything
    (it returns early if the daemon exits on its own)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=seconds)


def check_invariants(
    emulator: EmulatorHandle, db: Path, report: Report, resend_ok: bool = False
) -> None:
    """`resend_ok`: a client id may be sent again after the venue refused it unprocessed
    (e.g. -1021); the caller then checks that the venue processed it at most once."""
    state = emulator.state()
    creates: Counter[str] = Counter(state["order_creates"])
    twice = [cid for cid, n in creates.items() if n > 1]
    if twice and not resend_ok:
        report.violations.append(f"client ids sent more than once: {twice}")
    placed = Counter(o["clientOrderId"] for o in state["orders"])
    placed_twice = sorted(cid for cid, n in placed.items() if n > 1)
    if placed_twice:
        report.violations.append(f"client ids placed more than once: {placed_twice[:5]}")
    conn = sqlite3.connect(db)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            report.violations.append("database integrity check failed")
        intents = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT client_order_id, cause, kind, symbol, side, filled FROM order_intent"
            )
        }
        fills = conn.execute(
            "SELECT trade_id, symbol, client_order_id, side, amount, fee, fee_asset FROM fill"
        ).fetchall()
        check_tranche_shares(conn, report)
    finally:
        conn.close()
    ours = {o["orderId"]: o["clientOrderId"] for o in state["orders"]}
    venue_trades = {str(t["id"]): t for t in state["trades"] if ours.get(t["orderId"]) in intents}
    stored = Counter(str(f[0]) for f in fills)
    if any(n > 1 for n in stored.values()):
        report.violations.append("a fill is recorded twice")
    if set(stored) != set(venue_trades):
        missing = sorted(set(venue_trades) - set(stored))[:5]
        extra = sorted(set(stored) - set(venue_trades))[:5]
        report.violations.append(f"fills differ from the venue: missing {missing} extra {extra}")
    foreign = [cid for cid in creates if cid not in intents]
    if foreign:
        report.violations.append(f"orders at the venue with no recorded intent: {foreign[:5]}")
    _check_positions(state, fills, report)
    check_causes(intents, report)
    report.figures.update(
        orders_sent=sum(creates.values()),
        intents=len(intents),
        fills=len(fills),
        tier_sales=sum(1 for v in intents.values() if v[1] == "take_profit" and Decimal(v[4])),
        exits=sum(
            1 for v in intents.values() if v[1] in ("trailing_stop", "stop_loss") and Decimal(v[4])
        ),
    )


def _check_positions(state: dict[str, Any], fills: list[Any], report: Report) -> None:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for _, symbol, _, side, amount, fee, fee_asset in fills:
        base = symbol.split("/")[0]
        qty = Decimal(amount) - (Decimal(fee) if fee_asset == base else Decimal(0))
        held[base] += qty if side == "buy" else -Decimal(amount)
    for base in ("BTC", "ETH"):
        row = state["balances"].get(base, {"free": "0", "locked": "0"})
        venue = Decimal(row["free"]) + Decimal(row["locked"])
        if venue != held[base]:
            report.violations.append(f"{base}: store holds {held[base]}, venue {venue}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--mode", choices=MODES, default="testnet")
    args = parser.parse_args()

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="qtbot-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report = run_campaign(args.runs, workdir, args.seed, verbose=True, mode=args.mode)
    if not report.figures.get("orders_sent"):
        report.violations.append("no order was placed: the campaign proved nothing")
    summary = {
        "mode": args.mode,
        "runs": report.runs,
        "sigkills": report.kills,
        "clean_exits": report.clean_exits,
        "violations": report.violations,
        "seconds": round(time.monotonic() - started, 1),
        **report.figures,
    }
    print(json.dumps(summary, indent=2))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
