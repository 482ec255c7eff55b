"""A real `qtbot run` whose disk fills up: /healthz says the store cannot be written, the
operator is notified, and the daemon exits 1 with one clear line, never a traceback, whether it
gives up by itself or is stopped with SIGTERM meanwhile.

The disk is filled by tests/e2e/storefault/sitecustomize.py: once a flag file exists, every
SQL write of the child fails with SQLite's own "database or disk is full".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, qtbot_cmd, subprocess_env
from tests.emulator.client import EmulatorHandle, start_emulator
from tests.unit.ops.receiver import loopback_receiver

DEADLINE = 60.0  # only a real hang reaches it
STOREFAULT = REPO / "tests" / "e2e" / "storefault"
ONE_LINE = (
    "qtbot: the database cannot be written (disk full?): database or disk is full; "
    "free space and restart"
)


@pytest.fixture(scope="module")
def market() -> Iterator[EmulatorHandle]:
    """Paper mode reads public market data: served by the loopback emulator."""
    handle = start_emulator()
    try:
        yield handle
    finally:
        handle.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(cwd: Path, market: EmulatorHandle, flag: Path, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env.update(subprocess_env())
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(STOREFAULT)])
    env["STOREFAULT_FULL_FLAG"] = str(flag)
    env.update(
        {
            "QTBOT_EXCHANGE__REST_URL": market.url,
            "QTBOT_DAEMON__HEARTBEAT_SECONDS": "1",
            "QTBOT_HTTP__ENABLED": "true",
            "QTBOT_LOG__FORMAT": "json",
            **settings,
        }
    )
    return subprocess.Popen(
        qtbot_cmd("run"),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:  # 503: failing, with the same body
        return dict(json.loads(error.read()))
    except OSError:
        return None  # not serving yet


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the daemon exited before {what}: {proc.communicate()[1]}")
        time.sleep(0.1)
    raise AssertionError(f"no sign of {what} within {DEADLINE} s")


def _healthy(port: int) -> bool:
    health = _health(port)
    return health is not None and health["status"] == "ok"


def _jobs_cannot_write(port: int) -> bool:
    health = _health(port)
    return health is not None and "jobs cannot write" in health["checks"]["store"]["detail"]


def _check_one_clear_line(proc: subprocess.Popen[str], stderr: str) -> list[dict[str, Any]]:
    assert proc.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert [line for line in lines if not line.startswith("{")] == [ONE_LINE]
    assert lines[-1] == ONE_LINE
    events = [json.loads(line) for line in lines[:-1]]
    assert events[-1]["event"] == "daemon_stopped" and events[-1]["exit_status"] == 1
    return events


def test_sigterm_on_a_full_disk_ends_with_one_line_after_health_failed(
    tmp_path: Path, market: EmulatorHandle
) -> None:
    flag, port = tmp_path / "disk-full", _free_port()
    # A limit the daemon never reaches here: this run is ended by the operator's SIGTERM.
    proc = _start(
        tmp_path, market, flag, QTBOT_HTTP__PORT=str(port), QTBOT_DAEMON__STORE_FAILURE_LIMIT="1000"
    )
    try:
        _wait_for(lambda: _healthy(port), proc, "a healthy daemon")
        flag.touch()
        _wait_for(lambda: _jobs_cannot_write(port), proc, "/healthz reporting the store")
        health = _health(port)
        assert health is not None and health["status"] == "failing"
        assert health["checks"]["store"]["ok"] is False
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    events = _check_one_clear_line(proc, stderr)
    names = [e["event"] for e in events]
    assert "stop_not_recorded" in names and "store_unwritable" not in names


def test_full_disk_stops_the_daemon_with_one_line_and_a_notification(
    tmp_path: Path, market: EmulatorHandle
) -> None:
    flag, port = tmp_path / "disk-full", _free_port()
    with loopback_receiver() as receiver:
        proc = _start(
            tmp_path,
            market,
            flag,
            QTBOT_HTTP__PORT=str(port),
            QTBOT_DAEMON__STORE_FAILURE_LIMIT="3",
            QTBOT_NOTIFY__URLS=receiver.url(),
        )
        try:
            _wait_for(lambda: _healthy(port), proc, "a healthy daemon")
            flag.touch()
            _, stderr = proc.communicate(timeout=DEADLINE)  # it stops by itself
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        posts = [body for _, body in receiver.posts]
    events = _check_one_clear_line(proc, stderr)
    (gave_up,) = [e for e in events if e["event"] == "store_unwritable"]
    assert gave_up["level"] == "critical" and gave_up["error"] == "database or disk is full"
    stopping = [e["reason"] for e in events if e["event"] == "daemon_stopping"]
    assert stopping == ["store_unwritable"]
    notices = [p for p in posts if "database cannot be written" in p.get("title", "")]
    assert len(notices) == 1, posts
    assert "database or disk is full" in notices[0]["message"]
