"""`qtbot doctor`: one line per check, exit 1 when one fails, against loopback servers only
(the Binance emulator for the venue, a fake FRED server, fake liquidation clients)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import Settings
from bot.ops.doctor import WRITE_PROBE_KEY, Outcome, database_result
from bot.ops.doctor_venue import liquidation_results, permissions_result
from bot.state.store import Store
from tests.conftest import run_qtbot
from tests.emulator.client import EmulatorHandle
from tests.emulator.fixtures import emulator
from tests.unit.fred_fake import fred_serving

__all__ = ["emulator"]


@pytest.fixture
def fred_url() -> Iterator[str]:
    with fred_serving() as (url, _):
        yield url


def _env(emulator: EmulatorHandle, fred_url: str, mode: str = "testnet") -> dict[str, str]:
    env = {
        "QTBOT_EXCHANGE__MODE": mode,
        "QTBOT_EXCHANGE__REST_URL": emulator.url,
        "QTBOT_SIGNALS__FED_SOURCE": "fred",
        "QTBOT_SIGNALS__FRED_URL": fred_url,
    }
    if mode != "paper":
        env["QTBOT_EXCHANGE__API_KEY"] = emulator.api_key
        env["QTBOT_EXCHANGE__SECRET"] = emulator.api_secret
    return env


def _outcomes(stdout: str) -> dict[str, str]:
    return {row["check"]: row["outcome"] for row in json.loads(stdout)}


def test_every_check_passes_against_a_healthy_testnet(
    emulator: EmulatorHandle, fred_url: str, workdir: Path
) -> None:
    result = run_qtbot("doctor", cwd=workdir, env=_env(emulator, fred_url))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [
        "PASS",  # config
        "WARN",  # database: not created yet (doctor creates nothing)
        "PASS",  # clock
        "PASS",  # market data
        "PASS",  # credentials
        "SKIP",  # permissions: no sapi on the testnet
        "PASS",  # fred
        "SKIP",  # liquidations: none configured in tests
    ], result.stdout
    assert lines[-1] == "doctor: no failure"
    assert result.stderr == ""
    assert not (workdir / "data" / "qtbot.sqlite").exists()


def test_a_skewed_venue_clock_fails_the_clock_check_and_the_exit_status(
    emulator: EmulatorHandle, fred_url: str, workdir: Path
) -> None:
    emulator.configure(time_offset_ms=-10_000)  # the venue 10 s behind us: we are ahead
    result = run_qtbot("doctor", cwd=workdir, env=_env(emulator, fred_url))
    assert result.returncode == 1
    (clock,) = [line for line in result.stdout.splitlines() if line.split()[1:2] == ["clock"]]
    assert clock.startswith("FAIL  clock")
    assert "ahead of binance" in clock and "sync the clock" in clock
    # The signed balance read is refused for the same reason, and says so.
    lines = result.stdout.splitlines()
    (credentials,) = [line for line in lines if line.split()[1:2] == ["credentials"]]
    assert credentials.startswith("FAIL") and "-1021" in credentials
    assert result.stdout.splitlines()[-1] == "doctor: 2 failing: clock, credentials"
    assert "Traceback" not in result.stderr


def test_a_refused_key_fails_credentials_without_printing_the_key(
    emulator: EmulatorHandle, fred_url: str, workdir: Path
) -> None:
    env = {**_env(emulator, fred_url), "QTBOT_EXCHANGE__API_KEY": "wrong-key-5d1e"}
    result = run_qtbot("doctor", "--json", cwd=workdir, env=env)
    assert result.returncode == 1
    outcomes = _outcomes(result.stdout)
    assert outcomes["credentials"] == "fail" and outcomes["market data"] == "pass"
    assert "wrong-key-5d1e" not in result.stdout + result.stderr


def test_paper_mode_checks_the_public_market_data_and_needs_no_key(
    emulator: EmulatorHandle, fred_url: str, workdir: Path
) -> None:
    result = run_qtbot("doctor", "--json", cwd=workdir, env=_env(emulator, fred_url, "paper"))
    assert result.returncode == 0, result.stdout + result.stderr
    outcomes = _outcomes(result.stdout)
    assert outcomes["market data"] == "pass" and outcomes["clock"] == "pass"
    assert outcomes["credentials"] == "skip" and outcomes["permissions"] == "skip"
    requests = emulator.state()["requests"]
    assert not any("signature" in str(r.get("params", {})) for r in requests)


def test_unreachable_venue_and_fred_each_fail_in_one_line(workdir: Path) -> None:
    env = {
        "QTBOT_EXCHANGE__REST_URL": "http://127.0.0.1:9",  # discard port: nothing listens
        "QTBOT_SIGNALS__FED_SOURCE": "fred",
        "QTBOT_SIGNALS__FRED_URL": "http://127.0.0.1:9/fredgraph.csv",
    }
    result = run_qtbot("doctor", cwd=workdir, env=env)
    assert result.returncode == 1
    failing = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAIL")}
    assert failing == {"clock", "market", "fred"}
    assert "Traceback" not in result.stdout + result.stderr


def test_a_bad_setting_is_one_failing_config_line(workdir: Path) -> None:
    result = run_qtbot("doctor", cwd=workdir, env={"QTBOT_EXCHANGE__MODE": "nonsense"})
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  config") and "QTBOT_EXCHANGE__MODE" in first


@pytest.mark.parametrize(
    ("restrictions", "outcome", "words"),
    [
        pytest.param(
            {"enableWithdrawals": True, "enableSpotAndMarginTrading": True},
            Outcome.WARN,
            "WITHDRAWALS ARE ENABLED",
            id="withdrawals_enabled_is_a_loud_warning",
        ),
        pytest.param(
            {"enableWithdrawals": False, "enableSpotAndMarginTrading": False},
            Outcome.FAIL,
            "cannot trade spot",
            id="no_trading_right_fails",
        ),
        pytest.param(
            {"enableWithdrawals": False, "enableSpotAndMarginTrading": True, "ipRestrict": True},
            Outcome.PASS,
            "no withdrawals, restricted to listed IPs",
            id="trade_only_key_passes",
        ),
    ],
)
def test_binance_key_permissions_are_read_for_people(
    restrictions: dict[str, Any], outcome: Outcome, words: str
) -> None:
    result = permissions_result(restrictions)
    assert result.outcome is outcome
    assert words in result.detail


class _FeedClient:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.closed = False
        self.markets: dict[str, Any] = {}

    async def watch_liquidations_for_symbols(self, symbols: list[str]) -> list[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        return [{"symbol": "BTC/USDT:USDT", "side": "sell"}]

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        pytest.param(None, Outcome.PASS, id="a_message_arrives"),
        pytest.param(ConnectionError("ws refused"), Outcome.FAIL, id="the_stream_is_down"),
    ],
)
def test_liquidation_feed_check_reads_once_through_the_feed_code(
    error: Exception | None, outcome: Outcome
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings = settings.model_copy(
        update={"signals": settings.signals.model_copy(update={"liquidation_feeds": "binance"})}
    )
    clients: list[_FeedClient] = []

    def factory(exchange_id: str) -> _FeedClient:
        clients.append(_FeedClient(error))
        return clients[-1]

    (result,) = asyncio.run(liquidation_results(settings, factory))
    assert result.outcome is outcome, result
    assert result.name == "liquidations (binance)"
    assert all(c.closed for c in clients) and clients
    if error is not None:
        assert "ws refused" in result.detail


def test_database_check_fails_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    (tmp_path / "qtbot.sqlite").write_bytes(b"not a database, just bytes" * 100)
    result = database_result(settings, datetime.now(UTC))
    assert result.outcome is Outcome.FAIL, result
    assert result.line().startswith("FAIL  database       sqlite:///")


def test_database_check_passes_on_a_current_store_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    Store.open(settings.effective_database_url).close()
    result = database_result(settings, datetime.now(UTC))
    assert result.outcome is Outcome.PASS and "writable" in result.detail
    store = Store.open(settings.effective_database_url)
    try:
        assert store.get_value(WRITE_PROBE_KEY) is None  # the probe was rolled back
    finally:
        store.close()
