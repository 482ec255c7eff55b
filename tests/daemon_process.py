"""A real `qtbot run` in a subprocess, and how a test knows what it has done.

Tests wait for signals, never for time: the daemon's readiness notification (READY=1, the
systemd protocol), a heartbeat row in its SQLite store, a JSON log event in its stderr file, a
row the test is waiting for. Every wait ends at `DEADLINE`, which only a hang reaches: on a
loaded 2-core machine a start-up alone can take tens of seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import qtbot_cmd, subprocess_env

DEADLINE = 120.0
_POLL = 0.05

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    what: str,
    *,
    proc: subprocess.Popen[Any] | None = None,
    log: Path | None = None,
    timeout: float = DEADLINE,
) -> T:
    """Poll `check` until it returns something truthy, and return that. Fails when `proc`
    exits first or at the deadline, with `what` and the tail of `log`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            value = check()  # it may have got there on its way out
            if value:
                return value
            raise AssertionError(f"{what}: the daemon exited with {proc.returncode}{_tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s{_tail(log)}")
        time.sleep(_POLL)


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n" + log.read_text(errors="replace")[-3000:]


class ReadySignal:
    """READY=1 from the daemon on $NOTIFY_SOCKET: sent once the store is open, the start-up
    reconcile has run and the scheduler is on. Caught on an abstract unix socket by a thread
    that closes it at READY, so the daemon's later WATCHDOG=1 pings are refused at once rather
    than queued until the queue is full and the daemon blocks on it."""

    def __init__(self) -> None:
        name = f"qtbot-test-{uuid.uuid4().hex}"
        self.env = {"NOTIFY_SOCKET": "@" + name}
        self.received = threading.Event()
        self._closing = threading.Event()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + name)
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while not self._closing.is_set():
                try:
                    message = self._sock.recv(4096)
                except TimeoutError:
                    continue
                if b"READY=1" in message.split(b"\n"):
                    self.received.set()
                    return
        finally:
            self._sock.close()

    def wait(self, proc: subprocess.Popen[Any], timeout: float = DEADLINE) -> bool:
        """True once READY arrived; False if `proc` exited first or the deadline passed."""
        deadline = time.monotonic() + timeout
        while not self.received.wait(_POLL):
            if proc.poll() is not None or time.monotonic() > deadline:
                return self.received.is_set()
        return True

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)


def log_events(log: Path) -> list[dict[str, Any]]:
    """The JSON log lines of a daemon's stderr file (other lines skipped)."""
    events = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
    return events


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows from the daemon's SQLite store while it runs; [] before the file or table exists
    (read-only: never creates the file, never takes a write lock)."""
    if not db.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return []
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # no such table yet, or busy
        return []
    finally:
        conn.close()


def running_heartbeat(db: Path, pid: int) -> bool:
    rows = query(db, "SELECT pid, stopped_at FROM heartbeat WHERE name = 'daemon'")
    return bool(rows) and rows[0][0] == pid and rows[0][1] is None


@dataclass
class DaemonRun:
    """One `qtbot run`: its process, its stderr file, its readiness signal."""

    proc: subprocess.Popen[bytes]
    log: Path
    ready: ReadySignal
    spawned: float = field(default_factory=time.monotonic)

    def wait_ready(self, timeout: float = DEADLINE) -> float:
        """Seconds from spawn to READY; fails if the daemon exits first or hangs."""
        if not self.ready.wait(self.proc, timeout):
            state = "hung" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
            raise AssertionError(f"the daemon never became ready: {state}{_tail(self.log)}")
        return time.monotonic() - self.spawned

    def wait_for_event(self, event: str) -> dict[str, Any]:
        def found() -> dict[str, Any]:
            return next((e for e in log_events(self.log) if e.get("event") == event), {})

        return wait_until(found, f"log event {event!r}", proc=self.proc, log=self.log)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = DEADLINE) -> int:
        """Send `sig` and wait for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    @property
    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def start_daemon(
    cwd: Path,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    stdout: Path | None = None,
) -> Iterator[DaemonRun]:
    """`qtbot run` in `cwd` with the suite's subprocess environment plus `env`, its stderr in
    `log` (a file, not a pipe a waiting test would let fill up; stdout in `stdout` if given).
    Killed on the way out if it still runs."""
    full = {k: v for k, v in os.environ.items() if not k.upper().startswith("QTBOT_")}
    full.update(subprocess_env())
    full.update(env or {})
    ready = ReadySignal()
    full.update(ready.env)
    log = log or cwd / "daemon.log"
    try:
        with log.open("wb") as stderr, (stdout or Path(os.devnull)).open("wb") as out:
            proc = subprocess.Popen(qtbot_cmd("run"), cwd=cwd, env=full, stdout=out, stderr=stderr)
        run = DaemonRun(proc, log, ready)
        try:
            yield run
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=DEADLINE)
    finally:
        ready.close()
