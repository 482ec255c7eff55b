"""SIGTERM a real `qtbot run` while its order send waits for a slow venue: the send completes,
its answer is recorded, and the daemon still exits 0 with a clean `daemon_stopped` line.

The venue is the loopback exchange emulator (testnet mode) with a latency fault on the order
endpoint; the fault leaving the emulator's list is the signal that the send is in flight.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import qtbot_cmd, subprocess_env
from tests.emulator.client import EmulatorHandle, start_emulator

DEADLINE = 60.0  # only a real hang reaches it
# The answer comes this long after the request: ample time to signal, well inside the timeout.
VENUE_DELAY = 8.0
ORDER_PATH = "/api/v3/order"


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    handle = start_emulator()
    handle.set_balances(USDT="10000", BTC="0")
    handle.set_market("BTC/USDT", "50000", "50000.5", qty="5")
    try:
        yield handle
    finally:
        handle.stop()


def _env(emulator: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env.update(subprocess_env())
    env.update(
        {
            "QTBOT_EXCHANGE__MODE": "testnet",
            "QTBOT_EXCHANGE__REST_URL": emulator.url,
            "QTBOT_EXCHANGE__API_KEY": emulator.api_key,
            "QTBOT_EXCHANGE__SECRET": emulator.api_secret,
            "QTBOT_EXCHANGE__TIMEOUT_SECONDS": "30",
            "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
            "QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:100",
            "QTBOT_STRATEGY__ORDER_TYPE": "limit",
            "QTBOT_STRATEGY__FOMC_BLACKOUT_HOURS": "0",
            "QTBOT_STRATEGY__ANTI_CHASE_PCT": "off",
            "QTBOT_RISK__EXCHANGE_STOP": "false",
            "QTBOT_LOG__FORMAT": "json",
        }
    )
    return env


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the daemon exited before {what}: {proc.communicate()[1]}")
        time.sleep(0.05)
    raise AssertionError(f"no sign of {what} within {DEADLINE} s")


def _log(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_sigterm_during_a_slow_order_send_records_the_answer_and_exits_zero(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    emulator.add_fault("latency", method="POST", path=ORDER_PATH, delay=VENUE_DELAY, times=1)
    proc = subprocess.Popen(
        qtbot_cmd("run"),
        cwd=tmp_path,
        env=_env(emulator),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The fault is taken when the order request reaches the emulator, which then holds it.
        _wait_for(lambda: emulator.state()["faults"] == [], proc, "the order send")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    events = _log(stderr)
    names = [e["event"] for e in events]
    assert names[-1] == "daemon_stopped" and events[-1]["exit_status"] == 0
    assert "job_cancelled_at_stop" not in names
    waiting = next(e for e in events if e["event"] == "daemon_waiting_for_jobs")
    assert "entry" in waiting["jobs"]
    # The stop began while the venue still held the order.
    assert names.index("daemon_stopping") < names.index("order_placed")

    (sent,) = [r for r in emulator.requests("POST", ORDER_PATH)]
    venue_orders = {o["clientOrderId"]: o for o in emulator.state()["orders"]}
    assert sent["client_order_id"] in venue_orders
    db = sqlite3.connect(tmp_path / "data" / "qtbot.sqlite")
    rows = db.execute(
        "SELECT client_order_id, status, exchange_order_id FROM order_intent"
    ).fetchall()
    stopped = db.execute("SELECT kind FROM journal ORDER BY id DESC LIMIT 1").fetchone()
    db.close()
    assert rows == [(sent["client_order_id"], "open", rows[0][2])], rows
    assert rows[0][2], "the venue's order id is recorded"
    assert stopped == ("daemon_stopped",)
