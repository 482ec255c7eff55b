"""A testnet/live daemon checks its API key with one authenticated read before any job runs.

Against the loopback Binance emulator: a refused key (or secret) stops `qtbot run` with one
line naming the variables, exit status 2, no job run and no key in the output; accepted keys
start as before; a venue that does not answer says nothing about the key, so it does not stop
the start.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import structlog
import structlog.testing
from pydantic import SecretStr

from bot.config.settings import ExchangeSettings, Settings
from bot.runtime.credentials import CredentialsRefused, check_credentials, refusal_line
from bot.runtime.venue import open_daemon
from bot.services.clock import SystemClock
from tests.conftest import run_qtbot
from tests.emulator.client import EmulatorHandle

WRONG_KEY = "wrong-key-3c7a91f0"
WRONG_SECRET = "wrong-secret-8e2d44b1"


def env_for_testnet(emulator: EmulatorHandle, key: str, secret: str) -> dict[str, str]:
    return {
        "QTBOT_EXCHANGE__MODE": "testnet",
        "QTBOT_EXCHANGE__API_KEY": key,
        "QTBOT_EXCHANGE__SECRET": secret,
        "QTBOT_EXCHANGE__REST_URL": emulator.url,
        "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
        "QTBOT_LOG__FORMAT": "json",
    }


def journal_kinds(data_dir: Path) -> list[str]:
    database = data_dir / "qtbot.sqlite"
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return [kind for (kind,) in db.execute("SELECT kind FROM journal")]


@pytest.mark.parametrize(
    ("key", "secret", "venue_code"),
    [
        pytest.param(WRONG_KEY, None, "-2015", id="wrong_key"),
        pytest.param(None, WRONG_SECRET, "-1022", id="wrong_secret"),
    ],
)
def test_refused_key_stops_the_daemon_in_one_line_before_any_job(
    emulator: EmulatorHandle,
    tmp_path: Path,
    key: str | None,
    secret: str | None,
    venue_code: str,
) -> None:
    env = env_for_testnet(emulator, key or emulator.api_key, secret or emulator.api_secret)
    result = run_qtbot("run", "--once", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("qtbot: config error: exchange refused the API key: binance ")
    assert venue_code in line
    assert line.endswith("; check QTBOT_EXCHANGE__API_KEY/SECRET (testnet keys for testnet)")
    assert WRONG_KEY not in line and WRONG_SECRET not in line
    assert journal_kinds(tmp_path / "data") == []  # no job ran, not even a start was recorded
    assert emulator.state()["order_creates"] == {}


def test_accepted_key_starts_and_runs_the_jobs(emulator: EmulatorHandle, tmp_path: Path) -> None:
    env = env_for_testnet(emulator, emulator.api_key, emulator.api_secret)
    result = run_qtbot("run", "--once", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"credentials_accepted"' in result.stderr
    assert "daemon_started" in journal_kinds(tmp_path / "data")


def _settings(emulator: EmulatorHandle, tmp_path: Path, key: str) -> Settings:
    exchange = ExchangeSettings(
        mode="testnet",
        api_key=SecretStr(key),
        secret=SecretStr(emulator.api_secret),
        rest_url=emulator.url,
    )
    return Settings(_env_file=None, data_dir=tmp_path, exchange=exchange)


def test_check_closes_the_venue_clients_when_it_refuses(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    parts = open_daemon(_settings(emulator, tmp_path, WRONG_KEY), SystemClock())
    client = parts.ctx.services.exchange.client  # type: ignore[attr-defined]
    try:
        with pytest.raises(CredentialsRefused, match="-2015"):
            asyncio.run(check_credentials(parts))
        session = getattr(client, "session", None)
        assert session is None or session.closed
    finally:
        parts.ctx.store.close()


def test_unanswered_venue_does_not_count_as_a_refused_key(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # Every read of the account fails with a 503: a venue problem, not a verdict on the key.
    emulator.add_fault("status", path="/api/v3/account", status=503, times=None)
    parts = open_daemon(_settings(emulator, tmp_path, emulator.api_key), SystemClock())

    async def check_then_close() -> None:
        try:
            await check_credentials(parts)
        finally:
            await parts.close_venue()

    try:
        with structlog.testing.capture_logs() as logs:
            asyncio.run(check_then_close())  # no CredentialsRefused
    finally:
        parts.ctx.store.close()
    (warning,) = [entry for entry in logs if entry["event"] == "credentials_unchecked"]
    assert "503" in warning["reason"] or "Unavailable" in warning["reason"], warning


def test_refusal_line_never_repeats_the_key() -> None:
    exchange = ExchangeSettings(
        mode="live",
        api_key=SecretStr("KEY-1234abcd"),
        secret=SecretStr("SEC-5678efgh"),
        password=SecretStr("PASS-9999"),
    )
    reason = (
        "okx read: AuthenticationError: okx key KEY-1234abcd refused\n"
        "see https://u:PASS-9999@okx.example/?secret=SEC-5678efgh"
    )
    line = refusal_line(reason, exchange)
    assert "\n" not in line
    for secret in ("KEY-1234abcd", "SEC-5678efgh", "PASS-9999"):
        assert secret not in line
    assert line.startswith("exchange refused the API key: okx key *** refused see ")
    assert line.endswith("check QTBOT_EXCHANGE__API_KEY/SECRET/PASSWORD (live keys, not testnet)")
