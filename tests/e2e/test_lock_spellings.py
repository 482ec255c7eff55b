"""Two real daemons, one SQLite file spelled two ways: the second refuses to start.

The single-instance lock used to be keyed on the URL text, so `QTBOT_DATA_DIR=data` and
`QTBOT_DATA_DIR=$PWD/data` took two locks on one database and both daemons traded. Here one
daemon runs (paper mode, market data from the loopback emulator) and every other spelling of
its database is refused with exit status 1 and one line naming the holder's pid.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.state.runtime_state import RISK_OFF_KEY
from tests.conftest import qtbot_cmd, run_qtbot, subprocess_env
from tests.emulator.client import start_emulator

FAST = {"QTBOT_DAEMON__HEARTBEAT_SECONDS": "1", "QTBOT_LOG__FORMAT": "json"}


@dataclass
class Running:
    root: Path  # the daemon's working directory: data/, a symlink `link` to it, and sub/
    proc: subprocess.Popen[str]
    database: Path  # the real path of its database file


@pytest.fixture(scope="module")
def market() -> Iterator[dict[str, str]]:
    """Paper mode reads public market data: serve it from the loopback emulator."""
    handle = start_emulator()
    try:
        yield {**FAST, "QTBOT_EXCHANGE__REST_URL": handle.url}
    finally:
        handle.stop()


def _start(cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.upper().startswith("QTBOT_")}
    full.update({**subprocess_env(), **env})
    # stderr to a file: a module-long daemon would fill a pipe nobody reads and block.
    with log.open("w") as sink:
        return subprocess.Popen(
            qtbot_cmd("run"), cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=sink, text=True
        )


def _wait_for_heartbeat(database: Path, proc: subprocess.Popen[str], log: Path) -> None:
    """Ready when the daemon's own heartbeat row is in its database (it holds the lock)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        if database.exists():
            conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
            try:
                row = conn.execute(
                    "SELECT pid, stopped_at FROM heartbeat WHERE name = 'daemon'"
                ).fetchone()
            except sqlite3.OperationalError:  # tables not created yet
                row = None
            finally:
                conn.close()
            if row is not None and row[0] == proc.pid and row[1] is None:
                return
        time.sleep(0.2)
    raise AssertionError(f"no heartbeat from the daemon:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def _layout(root: Path) -> None:
    (root / "data").mkdir()
    (root / "sub").mkdir()
    (root / "link").symlink_to(root / "data")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, market: dict[str, str]) -> Iterator[Running]:
    """One daemon for the module, on `data/qtbot.sqlite` under its working directory (the
    default QTBOT_DATA_DIR=data, a relative spelling)."""
    root = tmp_path_factory.mktemp("spellings")
    _layout(root)
    log = root / "first.log"
    proc = _start(root, market, log)
    database = Path(os.path.realpath(root / "data" / "qtbot.sqlite"))
    try:
        _wait_for_heartbeat(database, proc, log)
        yield Running(root, proc, database)
    finally:
        status = _stop(proc)
    assert status == 0, log.read_text()


def _assert_refused(result: subprocess.CompletedProcess[str], holder: Running) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"qtbot: another qtbot (pid {holder.proc.pid}) is already running")
    assert str(holder.database) in lines[0]
    assert holder.proc.poll() is None, "the refused start must not disturb the running daemon"


# (working directory under the root, settings): all name the running daemon's database.
SECOND_SPELLINGS = {
    "absolute-data-dir": (".", {"QTBOT_DATA_DIR": "{root}/data"}),
    "symlinked-data-dir": (".", {"QTBOT_DATA_DIR": "link"}),
    "dotdot-data-dir": (".", {"QTBOT_DATA_DIR": "sub/../data"}),
    "from-a-subdirectory": ("sub", {"QTBOT_DATA_DIR": "../data"}),
    "relative-url": (".", {"QTBOT_DATABASE_URL": "sqlite:///data/qtbot.sqlite"}),
    "absolute-url": (".", {"QTBOT_DATABASE_URL": "sqlite:///{root}/data/qtbot.sqlite"}),
    "absolute-url-odd-path": (
        ".",
        {"QTBOT_DATABASE_URL": "sqlite:///{root}//link/../data/./qtbot.sqlite"},
    ),
    "url-with-query": (".", {"QTBOT_DATABASE_URL": "sqlite:///data/qtbot.sqlite?timeout=20"}),
}


@pytest.mark.parametrize("spelling", list(SECOND_SPELLINGS))
def test_a_second_daemon_on_another_spelling_refuses_naming_the_holder(
    running: Running, market: dict[str, str], spelling: str
) -> None:
    where, settings = SECOND_SPELLINGS[spelling]
    env = {**market, **{k: v.format(root=running.root) for k, v in settings.items()}}
    result = run_qtbot("run", cwd=running.root / where, env=env, timeout=60)
    _assert_refused(result, running)


def test_a_daemon_on_another_database_is_not_blocked(
    running: Running, market: dict[str, str]
) -> None:
    env = {**market, "QTBOT_DATA_DIR": "other"}
    result = run_qtbot("run", "--once", cwd=running.root, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert running.proc.poll() is None


def test_panic_under_another_spelling_asks_the_running_daemon(
    running: Running, market: dict[str, str]
) -> None:
    """`qtbot panic` sees the daemon through the same lock and leaves the selling to it."""
    env = {**market, "QTBOT_DATA_DIR": f"{running.root}/link"}
    result = run_qtbot("panic", "--yes", cwd=running.root / "sub", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "the running daemon will cancel all orders" in result.stdout
    assert running.proc.poll() is None
    conn = sqlite3.connect(f"file:{running.database}?mode=ro", uri=True, timeout=5)
    try:
        (value,) = conn.execute("SELECT value FROM kv WHERE key = ?", (RISK_OFF_KEY,)).fetchone()
    finally:
        conn.close()
    assert value == "true"


def test_first_absolute_then_relative_is_refused_too(workdir: Path, market: dict[str, str]) -> None:
    _layout(workdir)
    log = workdir / "first.log"
    first_env = {**market, "QTBOT_DATABASE_URL": f"sqlite:///{workdir}/data/qtbot.sqlite"}
    proc = _start(workdir, first_env, log)
    holder = Running(workdir, proc, Path(os.path.realpath(workdir / "data" / "qtbot.sqlite")))
    try:
        _wait_for_heartbeat(holder.database, proc, log)
        _assert_refused(run_qtbot("run", cwd=workdir, env=market, timeout=60), holder)
    finally:
        status = _stop(proc)
    assert status == 0, log.read_text()
    # Once the first has stopped, the other spelling runs.
    assert run_qtbot("run", "--once", cwd=workdir, env=market, timeout=120).returncode == 0
