"""The real `qtbot` process: run/stop cleanly, single instance, status, config errors, pause."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_qtbot
from tests.daemon_process import DEADLINE, DaemonRun, running_heartbeat, start_daemon, wait_until
from tests.emulator.client import start_emulator

FAST = {"QTBOT_DAEMON__HEARTBEAT_SECONDS": "1", "QTBOT_LOG__FORMAT": "json"}


@pytest.fixture(scope="module", autouse=True)
def _paper_market_on_loopback() -> Iterator[None]:
    """Paper mode reads public market data: serve it from the loopback emulator."""
    handle = start_emulator()
    FAST["QTBOT_EXCHANGE__REST_URL"] = handle.url
    try:
        yield
    finally:
        handle.stop()


def _wait_for_heartbeat(cwd: Path, daemon: DaemonRun) -> dict:
    """Ready, its heartbeat row written, and `qtbot status` showing it running."""
    daemon.wait_ready()
    db = cwd / "data" / "qtbot.sqlite"
    pid = daemon.proc.pid
    wait_until(lambda: running_heartbeat(db, pid), "heartbeat row", proc=daemon.proc)
    result = run_qtbot("status", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["heartbeat"]["running"] and view["heartbeat"]["pid"] == pid, view["heartbeat"]
    return view


def test_run_once_runs_every_job_and_exits_zero(workdir: Path) -> None:
    result = run_qtbot("run", "--once", cwd=workdir, env=FAST)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert "heartbeat" in events and events[-1] == "daemon_stopped"
    view = json.loads(run_qtbot("status", "--json", cwd=workdir).stdout)
    assert view["mode"] == "paper" and view["heartbeat"]["running"] is False
    assert (workdir / "data" / "qtbot.sqlite").is_file()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_signal_stops_the_daemon_cleanly(workdir: Path, sig: signal.Signals) -> None:
    with start_daemon(workdir, FAST) as daemon:
        _wait_for_heartbeat(workdir, daemon)
        status = daemon.stop(sig)
        stderr = daemon.stderr
    assert status == 0, stderr
    last = json.loads(stderr.strip().splitlines()[-1])
    assert last["event"] == "daemon_stopped"
    assert "Traceback" not in stderr
    view = json.loads(run_qtbot("status", "--json", cwd=workdir).stdout)
    assert view["heartbeat"]["running"] is False
    kinds = [e["kind"] for e in view["recent_events"]]
    assert kinds[0] == "daemon_stopped" and "daemon_started" in kinds


def test_second_daemon_on_the_same_database_refuses_to_start(workdir: Path) -> None:
    with start_daemon(workdir, FAST) as first:
        _wait_for_heartbeat(workdir, first)
        second = run_qtbot("run", cwd=workdir, env=FAST)
        assert second.returncode == 1
        assert "already running" in second.stderr and str(first.proc.pid) in second.stderr
        assert "Traceback" not in second.stderr
        assert first.proc.poll() is None
        assert first.stop() == 0, first.stderr
    # After a clean stop the lock is free again.
    assert run_qtbot("run", "--once", cwd=workdir, env=FAST).returncode == 0


def test_lock_is_released_by_sigkill(workdir: Path) -> None:
    with start_daemon(workdir, FAST) as daemon:
        _wait_for_heartbeat(workdir, daemon)
        assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    assert run_qtbot("run", "--once", cwd=workdir, env=FAST).returncode == 0


@pytest.mark.parametrize("command", ["run", "config", "status", "pause", "resume"])
def test_bad_config_exits_2_with_one_line_per_problem_for_every_command(
    workdir: Path, command: str
) -> None:
    env = {"QTBOT_EXCHANGE__MODE": "lve", "QTBOT_RISK__STOP_LOS_PCT": "5"}
    result = run_qtbot(command, cwd=workdir, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "qtbot: config error: QTBOT_RISK__STOP_LOS_PCT: unknown setting; "
        "did you mean QTBOT_RISK__STOP_LOSS_PCT?",
        "qtbot: config error: QTBOT_EXCHANGE__MODE='lve': "
        "Input should be 'paper', 'testnet' or 'live'",
    ]
    assert not (workdir / "data").exists(), "a rejected config must leave no state behind"


def test_live_mode_without_confirmation_refuses_to_run(workdir: Path) -> None:
    env = {
        "QTBOT_EXCHANGE__MODE": "live",
        "QTBOT_EXCHANGE__API_KEY": "k-123456",
        "QTBOT_EXCHANGE__SECRET": "s-123456",
    }
    result = run_qtbot("run", cwd=workdir, env=env)
    assert result.returncode == 2
    assert "QTBOT_EXCHANGE__LIVE_CONFIRM=I-UNDERSTAND" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_effective_settings_with_secrets_masked(workdir: Path) -> None:
    (workdir / ".env").write_text(
        "QTBOT_EXCHANGE__MODE=testnet\nQTBOT_EXCHANGE__API_KEY=key-ZZZ999\n"
        "QTBOT_EXCHANGE__SECRET=secret-YYY888\nQTBOT_RISK__STOP_LOSS_PCT=12\n"
    )
    plain = run_qtbot("config", cwd=workdir)
    as_json = run_qtbot("config", "--json", cwd=workdir)
    assert plain.returncode == as_json.returncode == 0
    for output in (plain.stdout, as_json.stdout):
        assert "ZZZ999" not in output and "YYY888" not in output
    assert "QTBOT_RISK__STOP_LOSS_PCT=12.0" in plain.stdout
    data = json.loads(as_json.stdout)
    assert data["exchange"]["api_key"] == "***" and data["exchange"]["mode"] == "testnet"


def test_status_without_a_database_says_so_and_creates_nothing(workdir: Path) -> None:
    result = run_qtbot("status", cwd=workdir)
    assert result.returncode == 0
    assert "heartbeat: never" in result.stdout
    assert not (workdir / "data").exists()


def test_pause_and_resume_show_in_status(workdir: Path) -> None:
    assert run_qtbot("pause", cwd=workdir).returncode == 0
    assert json.loads(run_qtbot("status", "--json", cwd=workdir).stdout)["risk_off"] is True
    assert "PAUSED" in run_qtbot("status", cwd=workdir).stdout
    assert run_qtbot("resume", cwd=workdir).returncode == 0
    assert json.loads(run_qtbot("status", "--json", cwd=workdir).stdout)["risk_off"] is False


def test_corrupted_database_is_one_clear_line(workdir: Path) -> None:
    (workdir / "data").mkdir()
    (workdir / "data" / "qtbot.sqlite").write_bytes(b"garbage" * 1000)
    for command in ("run", "status"):
        result = run_qtbot(command, cwd=workdir)
        assert result.returncode == 2, result.stderr
        assert "database error" in result.stderr and "Traceback" not in result.stderr


def test_panic_needs_explicit_confirmation(workdir: Path) -> None:
    result = run_qtbot("panic", cwd=workdir)
    assert result.returncode == 2 and "qtbot panic --yes" in result.stderr
    assert not (workdir / "data").exists()


def test_panic_with_nothing_open_says_so_and_pauses(workdir: Path) -> None:
    result = run_qtbot("panic", "--yes", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout
    assert json.loads(run_qtbot("status", "--json", cwd=workdir).stdout)["risk_off"] is True


def test_http_port_in_use_is_one_clear_line(workdir: Path) -> None:

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**FAST, "QTBOT_HTTP__ENABLED": "true", "QTBOT_HTTP__PORT": str(port)}
        result = run_qtbot("run", cwd=workdir, env=env)
    assert result.returncode == 2
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_daemon_serves_health_and_metrics_when_enabled(workdir: Path) -> None:

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**FAST, "QTBOT_HTTP__ENABLED": "true", "QTBOT_HTTP__PORT": str(port)}
    with start_daemon(workdir, env) as daemon:
        _wait_for_heartbeat(workdir, daemon)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/metrics", timeout=DEADLINE) as response:
            metrics = response.read().decode()
        assert "qtbot_" in metrics
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=DEADLINE) as response:
                health = json.loads(response.read())
        except urllib.error.HTTPError as error:  # 503 while the exchange probe has not run
            health = json.loads(error.read())
        assert "heartbeat" in json.dumps(health)
        assert daemon.stop() == 0, daemon.stderr
