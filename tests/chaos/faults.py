"""Exchange fault campaign: a real `qtbot run` trades while the venue misbehaves.

The bot runs in testnet mode against the loopback Binance emulator with the crash campaign's
accelerated clock and market driver; one daemon process lives through every phase (no kills).
Each phase arms one family of faults (see `tests.chaos.fault_phases`) for a few seconds, then
a recovery gap lets the bot catch up. Checked:

- the daemon never exits during the campaign, and stops with status 0 on SIGTERM at the end;
- it backs off: under 429/418 with Retry-After its request rate stays under a bound, and far
  under the rate it would reach if it ignored the hint;
- no client order id is sent twice (`order_creates` <= 1 per id), whatever the fault;
- after the faults are gone and two reconcile-only passes ran, store == venue (fills and
  positions, as in the crash campaign), no tier sold twice, no tranche over its share;
- failures are journaled: kind `job_failed` with `failures_in_a_row` (the first failure of a
  streak and every tenth), which the notification layer reads.

Run: `python -m tests.chaos.faults [--cycles 2] [--phase-seconds 8] [--skip-known]`
(`--skip-known` leaves out the phases that hit open bugs pinned in test_venue_replies.py);
a slice runs in the suite (tests/chaos/test_fault_campaign.py).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.chaos.campaign import START_USDT, MarketDriver, Report, bot_env, check_invariants
from tests.chaos.fault_emulator import FaultyEmulatorServer, start_faulty_emulator
from tests.chaos.fault_phases import PHASES, Phase
from tests.conftest import qtbot_cmd
from tests.daemon_process import DEADLINE, ReadySignal
from tests.emulator.client import EmulatorHandle

# Under a Retry-After, a bot that honours it sends a handful of requests a second at most
# (each job's read waits the hint out before its next try); one that ignores it runs into
# ccxt's own throttle (20 requests a second for binance) on every client it has.
MAX_RATE_UNDER_THROTTLE = 4.0
RECOVERY_SECONDS = 3.0
# Requests a throttled phase must see before it ends, so its rate is measured over some.
THROTTLED_PHASE_REQUESTS = 3


@dataclass
class PhaseResult:
    name: str
    faults: str
    seconds: float
    requests: int
    rate: float
    faulted: int
    order_creates: int
    job_failures: int
    alive: bool
    window: tuple[float, float] = (0.0, 0.0)
    notes: list[str] = field(default_factory=list)


@dataclass
class FaultReport(Report):
    phases: list[PhaseResult] = field(default_factory=list)
    exit_status: int | None = None


def _log_events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def _wall(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event.get("timestamp"))).timestamp()


def _run_phase(
    label: str,
    phase: Phase,
    seconds: float,
    server: FaultyEmulatorServer,
    handle: EmulatorHandle,
    driver: MarketDriver,
    proc: subprocess.Popen[Any],
    recovery: float = RECOVERY_SECONDS,
) -> tuple[float, float, bool]:
    """Arm, hold, disarm, recover; (wall start, wall end, daemon alive throughout). Requests
    are tagged with `label` (the phase name and its cycle).

    A phase lasts `seconds` and, on a machine slow enough that the daemon had not reached the
    venue by then, until it has sent the phase's share of requests (a throttled rate needs a
    few to mean anything); the recovery lasts `recovery` and until the venue has answered the
    daemon normally again. Either ends at DEADLINE: only a hung daemon gets there."""
    server.phase = label
    start = time.time()
    phase.arm(server, handle)
    driver.bias = phase.market_bias
    wanted = THROTTLED_PHASE_REQUESTS if phase.throttled else 1
    alive = _hold(proc, seconds, lambda: len(server.entries(label)) >= wanted)
    handle.clear_faults()
    server.clear_drops()
    driver.bias = 1.0
    if phase.disarm is not None:
        phase.disarm(server, handle)
    end = time.time()
    recovery_label = f"{label}:recovery"
    server.phase = recovery_label

    def answered() -> bool:
        return any(e.get("status") == 200 for e in server.entries(recovery_label))

    alive = _hold(proc, recovery, answered) and alive
    return start, end, alive


def _hold(proc: subprocess.Popen[Any], seconds: float, done: Callable[[], bool]) -> bool:
    """At least `seconds`, then until `done()`; False if the daemon exited meanwhile."""
    floor = time.monotonic() + seconds
    deadline = floor + DEADLINE
    while proc.poll() is None:
        now = time.monotonic()
        if now >= floor and (done() or now >= deadline):
            return True
        time.sleep(0.1)
    return False


def _phase_result(
    label: str,
    phase: Phase,
    window: tuple[float, float],
    server: FaultyEmulatorServer,
    events: list[dict[str, Any]],
    alive: bool,
) -> PhaseResult:
    entries = server.entries(label)
    seconds = window[1] - window[0]
    failures = [
        e
        for e in events
        if e.get("event") == "job_failed" and window[0] <= _wall(e) <= window[1] + RECOVERY_SECONDS
    ]
    faulted = sum(1 for e in entries if "fault" in e)
    statuses = Counter(str(e.get("status", "-")) for e in entries)
    return PhaseResult(
        name=label,
        faults=phase.description,
        seconds=round(seconds, 1),
        requests=len(entries),
        rate=round(len(entries) / seconds, 2) if seconds > 0 else 0.0,
        faulted=faulted,
        order_creates=sum(1 for e in entries if e.get("client_order_id") is not None),
        job_failures=len(failures),
        alive=alive,
        window=window,
        notes=[f"statuses {dict(sorted(statuses.items()))}"],
    )


def check_backoff(result: PhaseResult, phase: Phase, report: FaultReport) -> None:
    if phase.throttled and result.rate > MAX_RATE_UNDER_THROTTLE:
        report.violations.append(
            f"{result.name}: {result.rate} requests/s under Retry-After, "
            f"bound {MAX_RATE_UNDER_THROTTLE}/s: the bot does not back off"
        )


def check_resends(server: FaultyEmulatorServer, report: FaultReport) -> None:
    """A client id sent again is fine only if the venue processed at most one of the sends."""
    processed: Counter[str] = Counter()
    sends: Counter[str] = Counter()
    for entry in server.entries():
        cid = entry.get("client_order_id")
        if cid is None:
            continue
        sends[cid] += 1
        if entry.get("status") == 200:
            processed[cid] += 1
    twice = sorted(cid for cid, n in processed.items() if n > 1)
    if twice:
        report.violations.append(f"client ids processed by the venue twice: {twice[:5]}")
    report.figures["order_sends"] = sum(sends.values())
    report.figures["resends_after_refusal"] = sum(n - 1 for n in sends.values() if n > 1)


# The bot holds at most ~30 % of equity here; a bigger loss can only come from a misread account.
IMPOSSIBLE_LOSS_PCT = 40.0
_LOSS = re.compile(r"(daily loss|drawdown) ([0-9.]+)%")


def check_kill_switch(db: Path, report: FaultReport) -> None:
    """The kill switch trips on real losses only, not on a reply the bot misread."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT message FROM journal WHERE kind = 'entries_blocked'").fetchall()
    finally:
        conn.close()
    for (message,) in rows:
        for what, pct in _LOSS.findall(message):
            if float(pct) > IMPOSSIBLE_LOSS_PCT:
                report.violations.append(
                    f"kill switch tripped on a {what} of {pct}% the account never had: {message}"
                )
                return


def check_journal(db: Path, events: list[dict[str, Any]], report: FaultReport) -> None:
    """Every streak the logs show is journaled at its first failure and every tenth."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT data FROM journal WHERE kind = 'job_failed'").fetchall()
    finally:
        conn.close()
    journaled: set[tuple[str, int]] = set()
    for (data,) in rows:
        payload = json.loads(data or "{}")
        if "failures_in_a_row" not in payload:
            report.violations.append(f"job_failed journal row without failures_in_a_row: {data}")
            continue
        journaled.add((str(payload.get("job")), int(payload["failures_in_a_row"])))
    logged = {
        (str(e.get("job")), int(e.get("failures_in_a_row", 0)))
        for e in events
        if e.get("event") == "job_failed"
    }
    expected = {(job, n) for job, n in logged if n == 1 or n % 10 == 0}
    missing = sorted(expected - journaled)
    if missing:
        report.violations.append(f"job failures logged but not journaled: {missing[:5]}")
    if logged and not journaled:
        report.violations.append("jobs failed but nothing was journaled")
    report.figures["job_failed_journal_rows"] = len(rows)
    report.figures["longest_failure_streak"] = max((n for _, n in logged), default=0)


def run_fault_campaign(
    workdir: Path,
    phases: list[Phase] | None = None,
    *,
    cycles: int = 1,
    phase_seconds: float = 8.0,
    recovery_seconds: float = RECOVERY_SECONDS,
    seed: int = 5,
    verbose: bool = False,
) -> FaultReport:
    phases = list(PHASES) if phases is None else phases
    server, handle = start_faulty_emulator()
    handle.set_balances(USDT=str(START_USDT), BTC="0", ETH="0", SOL="0")
    driver = MarketDriver(handle, time.monotonic(), seed)
    driver.start()
    env = bot_env(handle, datetime.now(UTC), "testnet")
    # A tranche every ~3 wall seconds for ~2 minutes, so that order faults meet orders.
    env["QTBOT_STRATEGY__TRANCHES"] = "40"
    env["QTBOT_STRATEGY__ENTRY_WINDOW_DAYS"] = "4"
    report = FaultReport()
    ready = ReadySignal()
    stderr_path = workdir / "daemon.log"
    workdir.mkdir(parents=True, exist_ok=True)
    windows: list[tuple[str, Phase, tuple[float, float], bool]] = []
    try:
        with stderr_path.open("w") as stderr:
            proc = subprocess.Popen(
                qtbot_cmd("run"),
                cwd=workdir,
                env={**env, **ready.env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                # READY comes after the start-up reconcile: the faults meet a running daemon.
                if not ready.wait(proc):
                    report.violations.append(f"the daemon never became ready: {proc.poll()}")
                for cycle in range(cycles):
                    for phase in phases:
                        if verbose:
                            print(f"cycle {cycle + 1}: {phase.name}", file=sys.stderr)
                        label = f"c{cycle + 1}:{phase.name}"
                        start, end, alive = _run_phase(
                            label,
                            phase,
                            phase_seconds,
                            server,
                            handle,
                            driver,
                            proc,
                            recovery_seconds,
                        )
                        windows.append((label, phase, (start, end), alive))
                report.runs = 1
                if proc.poll() is not None:
                    report.violations.append(f"the daemon exited with {proc.returncode}")
                proc.send_signal(signal.SIGTERM)
                report.exit_status = proc.wait(timeout=DEADLINE)
            finally:
                ready.close()
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if report.exit_status not in (0, None):
            report.violations.append(f"SIGTERM ended the daemon with {report.exit_status}")
        report.clean_exits = int(report.exit_status == 0)
        driver.halt.set()
        driver.join()
        events = _log_events(stderr_path)
        for label, phase, window, alive in windows:
            result = _phase_result(label, phase, window, server, events, alive)
            report.phases.append(result)
            if not alive:
                report.violations.append(f"{label}: the daemon died")
            check_backoff(result, phase, report)
        _settle(workdir, env, report)
        db = workdir / "data" / "qtbot.sqlite"
        check_invariants(handle, db, report, resend_ok=True)
        check_resends(server, report)
        check_journal(db, events, report)
        check_kill_switch(db, report)
        if not report.figures.get("orders_sent"):
            report.violations.append("no order reached the venue: the campaign proved nothing")
        with (workdir / "requests.jsonl").open("w") as out:
            for entry in server.entries():
                out.write(json.dumps(entry) + "\n")
        report.figures["requests"] = len(server.entries())
        report.figures["faulted_requests"] = sum(1 for e in server.entries() if "fault" in e)
    finally:
        driver.halt.set()
        server.stop()
    return report


def _settle(workdir: Path, env: dict[str, str], report: FaultReport) -> None:
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
        (workdir / f"settle-{index}.log").write_text(result.stderr)
        if result.returncode != 0:
            report.violations.append(f"settle run failed: {result.stderr[-800:]}")


def format_table(report: FaultReport) -> str:
    head = (
        "| phase | faults injected | s | requests | req/s | faulted | order sends "
        "| job failures | alive |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.name} | {r.faults} | {r.seconds} | {r.requests} | {r.rate} | {r.faulted} "
        f"| {r.order_creates} | {r.job_failures} | {'yes' if r.alive else 'NO'} |"
        for r in report.phases
    ]
    return "\n".join([head, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--phase-seconds", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated phase names")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--skip-known", action="store_true", help="leave out phases that hit pinned open bugs"
    )
    args = parser.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    phases = [
        p
        for p in PHASES
        if (not wanted or p.name in wanted) and not (args.skip_known and p.known_bug)
    ]
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="qtbot-faults-"))
    started = time.monotonic()
    report = run_fault_campaign(
        workdir,
        phases,
        cycles=args.cycles,
        phase_seconds=args.phase_seconds,
        seed=args.seed,
        verbose=True,
    )
    print(format_table(report))
    for phase in phases:
        if phase.known_bug:
            print(f"known open bug in {phase.name}: pinned by {phase.known_bug}")
    for result in report.phases:
        start = datetime.fromtimestamp(result.window[0], UTC).strftime("%H:%M:%S")
        print(f"{result.name}: from {start} UTC, {'; '.join(result.notes)}", file=sys.stderr)
    summary = {
        "workdir": str(workdir),
        "exit_status": report.exit_status,
        "violations": report.violations,
        "seconds": round(time.monotonic() - started, 1),
        **report.figures,
    }
    print(json.dumps(summary, indent=2))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
