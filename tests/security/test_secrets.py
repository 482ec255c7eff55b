"""Secrets never leave the process, the state is owner-only, the HTTP endpoint stays private.

A real daemon runs in paper mode against the loopback emulator with a known fake value in
every secret setting (every `SecretStr` field of `Settings`: exchange key, secret and
passphrase, FRED key, notification URLs). The FRED source points at the emulator (which
answers 404, so the keyed URL lands in an error), the notification URL at a closed loopback
port (so the delivery fails and is logged), and the status server is on. Afterwards every
output is searched for the secrets: the daemon's logs, `qtbot status [--json]`, `qtbot config
[--json]`, a config error, the HTTP pages, a testnet run whose fake keys the venue refuses,
and every byte of every file in the data directory (SQLite file, WAL, lock).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import typing
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config.settings import Settings, env_names
from tests.badinput.cases import field_info
from tests.conftest import run_qtbot
from tests.daemon_process import DEADLINE, start_daemon
from tests.emulator.client import EmulatorHandle, start_emulator


def secret_names() -> list[str]:
    """Every setting whose type is a secret (`SecretStr`, optional or not)."""
    names = []
    for name, path in env_names().items():
        annotation = field_info(path)[1].annotation
        if annotation is SecretStr or SecretStr in typing.get_args(annotation):
            names.append(name)
    return sorted(names)


def fake_secret(name: str) -> str:
    # Plain [a-z0-9-]: a secret percent-encoded in a URL still reads the same. At least 32
    # characters (the control token's minimum); a Telegram token has @BotFather's form.
    plain = ("fake-" + name.lower().replace("_", "")[5:] + "-7f3a9c41e2").ljust(32, "0")
    return f"123456789:{plain}" if name == "QTBOT_TELEGRAM__TOKEN" else plain


def secret_env(emulator: EmulatorHandle) -> dict[str, str]:
    env = {name: fake_secret(name) for name in secret_names()}
    if "QTBOT_NOTIFY__URLS" in env:
        # A valid Apprise URL that carries the token; port 9 on loopback refuses at once.
        env["QTBOT_NOTIFY__URLS"] = f"json://127.0.0.1:9/{fake_secret('QTBOT_NOTIFY__URLS')}"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of the TCP sockets `pid` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                address, port = cols[1].split(":")
                found.append((address, int(port, 16)))
    return found


LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}


class Run(typing.NamedTuple):
    outputs: dict[str, bytes]
    secrets: dict[str, str]
    data_dir: Path
    listening: list[tuple[str, int]]


def _http_pages(port: int) -> dict[str, bytes]:
    pages = {}
    for path in ("/", "/healthz", "/metrics", "/status.json"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=DEADLINE) as resp:
                pages[f"http {path}"] = resp.read()
        except OSError as exc:  # HTTPError included: its body is an output too
            body = exc.read() if hasattr(exc, "read") else b""
            pages[f"http {path}"] = f"{exc}".encode() + body
    return pages


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("secrets")
    emulator = start_emulator()
    secrets = secret_env(emulator)
    port = _free_port()
    env = {
        **secrets,
        "QTBOT_EXCHANGE__REST_URL": emulator.url,
        "QTBOT_SIGNALS__FED_SOURCE": "fred",
        "QTBOT_SIGNALS__FRED_URL": f"{emulator.url}/fred/series/observations",
        "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
        "QTBOT_DAEMON__CLOCK_SPEED": "600",
        "QTBOT_HTTP__ENABLED": "true",
        "QTBOT_HTTP__PORT": str(port),
        "QTBOT_LOG__FORMAT": "json",
        "QTBOT_LOG__LEVEL": "DEBUG",
    }
    outputs: dict[str, bytes] = {}
    try:
        logs = workdir.parent / f"{workdir.name}-daemon.log"  # outside the swept directory
        stdout = workdir.parent / f"{workdir.name}-daemon.out"
        with start_daemon(workdir, env, log=logs, stdout=stdout) as daemon:
            daemon.wait_ready()  # the status server is up before READY
            # The keyed URLs have been used and failed (and logged) once these are in the log.
            daemon.wait_for_event("fred_series_unavailable")
            if "QTBOT_NOTIFY__URLS" in secrets:
                daemon.wait_for_event("notification_failed")
            ports = listening(daemon.proc.pid)
            outputs.update(_http_pages(port))
            assert daemon.stop() == 0, daemon.stderr[-2000:]
        outputs["daemon stdout"] = stdout.read_bytes()
        outputs["daemon stderr (logs)"] = logs.read_bytes()
        commands = {
            "status": ("status",),
            "status --json": ("status", "--json"),
            "config": ("config",),
            "config --json": ("config", "--json"),
            "regime --json": ("regime", "--json"),
        }
        bad = {**env, "QTBOT_RISK__STOP_LOSS_PCT": "abc"}
        testnet = {
            **env,
            "QTBOT_EXCHANGE__MODE": "testnet",
            "QTBOT_HTTP__ENABLED": "false",
            "QTBOT_DATA_DIR": str(workdir / "testnet-data"),
        }
        with ThreadPoolExecutor(max_workers=3) as pool:
            jobs = {
                name: pool.submit(run_qtbot, *args, cwd=workdir, env=env)
                for name, args in commands.items()
            }
            jobs["config error"] = pool.submit(run_qtbot, "config", cwd=workdir, env=bad)
            jobs["testnet run refused keys"] = pool.submit(
                run_qtbot, "run", "--once", cwd=workdir, env=testnet
            )
            for name, job in jobs.items():
                result = job.result()
                outputs[name] = (result.stdout + result.stderr).encode()
        for path in sorted(workdir.rglob("*")):
            if path.is_file():
                outputs[f"file {path.relative_to(workdir)}"] = path.read_bytes()
        yield Run(outputs, secrets, workdir / "data", ports)
    finally:
        emulator.stop()


def test_every_secret_setting_is_exercised() -> None:
    names = secret_names()
    for expected in (
        "QTBOT_EXCHANGE__API_KEY",
        "QTBOT_EXCHANGE__SECRET",
        "QTBOT_EXCHANGE__PASSWORD",
        "QTBOT_SIGNALS__FRED_API_KEY",
    ):
        assert expected in names


def test_the_run_produced_the_outputs_it_searches(secret_run: Run) -> None:
    logs = secret_run.outputs["daemon stderr (logs)"].decode()
    assert '"daemon_stopped"' in logs
    # The keyed FRED URL failed, and so did a delivery to the notification URL.
    assert '"fred_series_unavailable"' in logs
    if "QTBOT_NOTIFY__URLS" in secret_run.secrets:
        assert '"notification_failed"' in logs
    refused = secret_run.outputs["testnet run refused keys"]  # the venue said no, at start
    assert refused.startswith(b"qtbot: config error: exchange refused the API key: ")
    assert b"-2015" in refused and refused.count(b"\n") == 1
    assert any(name.startswith("file data/qtbot.sqlite") for name in secret_run.outputs)
    assert b"***" in secret_run.outputs["config"]  # the secrets are set, and shown masked
    assert secret_run.outputs["http /healthz"]


def test_no_secret_appears_in_any_output_or_file(secret_run: Run) -> None:
    leaks = [
        f"{setting} in {where}"
        for where, data in secret_run.outputs.items()
        for setting, value in secret_run.secrets.items()
        if fake_secret(setting).encode() in data or value.encode() in data
    ]
    assert leaks == []


def test_database_and_data_dir_are_owner_only(secret_run: Run) -> None:
    data = secret_run.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_enabled_status_server_listens_on_loopback_only(secret_run: Run) -> None:
    assert secret_run.listening, "the status server was enabled but nothing listened"
    assert all(address in LOOPBACK_HEX for address, _ in secret_run.listening)


def test_http_endpoint_is_off_by_default_and_would_bind_loopback() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.http.enabled is False
    assert defaults.http.host == "127.0.0.1"


def test_a_default_daemon_listens_on_no_port(tmp_path: Path) -> None:
    emulator = start_emulator()
    try:
        with start_daemon(tmp_path, {"QTBOT_EXCHANGE__REST_URL": emulator.url}) as daemon:
            daemon.wait_ready()  # past the point where an enabled status server listens
            assert listening(daemon.proc.pid) == []
            assert daemon.stop() == 0, daemon.stderr[-2000:]
    finally:
        emulator.stop()


def test_config_json_masks_every_secret(secret_run: Run) -> None:
    view = json.loads(secret_run.outputs["config --json"])
    for name in secret_run.secrets:
        section, _, key = name.removeprefix("QTBOT_").lower().partition("__")
        assert view[section][key] == "***", name
