"""`qtbot download-data` over real HTTP against the loopback Binance emulator.

QTBOT_EXCHANGE__REST_URL points ccxt at the emulator, the setting the daemon uses for a proxy
or the emulator. The command runs in this process, except where it is interrupted: there it
runs as a process of its own that is killed at a readiness signal. The
emulator serves its synthetic history (tests/emulator/klines.py): the same request always
gives the same bytes, so an interrupted-then-resumed download can be compared byte for byte
with an uninterrupted one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app
from tests.emulator import EmulatorHandle, start_emulator

KLINES = "/api/v3/klines"
FOUR_DAYS = ["--timeframe", "1m", "--from", "2024-01-01", "--to", "2024-01-05"]
ROWS_4D = 4 * 1440
DEADLINE_S = 60.0
SUMMARY = re.compile(
    r"^BTC/USDT 1m: \+(\d+) rows \((\S+ \S+) -> (\S+ \S+) UTC\), (\d+) rows in (\S+)$"
)


@pytest.fixture
def venue() -> Iterator[EmulatorHandle]:
    handle = start_emulator()
    handle.configure(candles="synthetic")
    try:
        yield handle
    finally:
        handle.stop()


def _env(venue: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env["QTBOT_EXCHANGE__REST_URL"] = venue.url
    return env


def _start(venue: EmulatorHandle, cwd: Path, *args: str) -> subprocess.Popen[str]:
    """The command in a process of its own, to be killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "download-data", *args],
        cwd=cwd,
        env=_env(venue),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(venue: EmulatorHandle, cwd: Path, *args: str) -> Result:
    """The command in this process (its imports are paid once), from `cwd`, not a terminal."""
    qtbot_vars = [k for k in os.environ if k.startswith("QTBOT_")]
    env: dict[str, str | None] = dict.fromkeys(qtbot_vars)
    env["QTBOT_EXCHANGE__REST_URL"] = venue.url
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(app, ["download-data", *args], env=env)


def _klines(venue: EmulatorHandle) -> list[dict[str, object]]:
    return venue.requests("GET", KLINES)


def _wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


_REFERENCES: dict[tuple[str, ...], bytes] = {}


def _reference(venue: EmulatorHandle, tmp_path: Path, *args: str) -> bytes:
    """The file an uninterrupted download of `args` gives, in a directory of its own (once per
    module: the synthetic history is the same in every emulator)."""
    if args not in _REFERENCES:
        ref = tmp_path / "reference"
        result = _run(venue, tmp_path, *args, "--datadir", str(ref))
        assert result.exit_code == 0, result.stderr
        _REFERENCES[args] = (ref / "BTC_USDT-1m.csv").read_bytes()
    return _REFERENCES[args]


def test_download_writes_the_canonical_csv_and_a_summary_line(
    venue: EmulatorHandle, tmp_path: Path
) -> None:
    result = _run(venue, tmp_path, "--symbols", "BTC/USDT,ETH/USDT", *FOUR_DAYS)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress bar, only the summary lines
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    match = SUMMARY.match(lines[0])
    assert match is not None, lines[0]
    assert match.groups() == (
        str(ROWS_4D),
        "2024-01-01 00:00",
        "2024-01-04 23:59",
        str(ROWS_4D),
        "data/BTC_USDT-1m.csv",
    )
    assert lines[1].startswith(f"ETH/USDT 1m: +{ROWS_4D} rows")
    text = (tmp_path / "data" / "BTC_USDT-1m.csv").read_text()
    rows = text.splitlines()
    assert rows[0] == "timestamp,open,high,low,close,volume"
    stamps = [int(r.split(",")[0]) for r in rows[1:]]
    assert stamps == list(range(1_704_067_200_000, 1_704_067_200_000 + ROWS_4D * 60_000, 60_000))
    assert all(len(r.split(",")) == 6 for r in rows[1:])
    assert len(_klines(venue)) == 2 * 6  # pages of 1000, ccxt's binance maximum
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "BTC_USDT-1m.csv",
        "ETH_USDT-1m.csv",
    ]


def test_rerun_adds_only_what_is_missing_on_both_sides(
    venue: EmulatorHandle, tmp_path: Path
) -> None:
    wide = ["--symbols", "BTC/USDT", "--timeframe", "1m", "--from", "2023-12-31"]
    expected = _reference(venue, tmp_path, *wide, "--to", "2024-01-06")
    first = _run(venue, tmp_path, "--symbols", "BTC/USDT", *FOUR_DAYS)
    assert first.exit_code == 0, first.stderr
    path = tmp_path / "data" / "BTC_USDT-1m.csv"
    before = path.read_bytes()

    again = _run(venue, tmp_path, "--symbols", "BTC/USDT", *FOUR_DAYS)
    assert again.exit_code == 0, again.stderr
    assert "up to date, +0 rows" in again.stdout
    assert path.read_bytes() == before

    calls = len(_klines(venue))
    wider = _run(venue, tmp_path, *wide, "--to", "2024-01-06")
    assert wider.exit_code == 0, wider.stderr
    assert "+2880 rows" in wider.stdout
    assert path.read_bytes() == expected
    starts = [int(str(r["startTime"])) for r in _klines(venue)[calls:]]
    held = range(1_704_067_200_000, 1_704_067_200_000 + ROWS_4D * 60_000)
    assert starts[0] == 1_703_980_800_000  # the day before the file's first candle
    assert held.stop - 60_000 + 1 in starts  # just after the file's last candle
    assert not [s for s in starts if s in held and s != held.stop - 60_000 + 1]


@pytest.mark.parametrize(
    ("stop", "status", "existing"),
    [
        pytest.param(signal.SIGKILL, -9, False, id="sigkill_new_file"),
        pytest.param(signal.SIGKILL, -9, True, id="sigkill_extending_a_file"),
        pytest.param(signal.SIGINT, 130, False, id="ctrl_c_new_file"),
    ],
)
def test_interrupted_download_resumes_to_the_same_bytes(
    venue: EmulatorHandle, tmp_path: Path, stop: signal.Signals, status: int, existing: bool
) -> None:
    args = ["--symbols", "BTC/USDT", "--timeframe", "1m", "--from", "2024-01-01"]
    expected = _reference(venue, tmp_path, *args, "--to", "2024-01-07")
    path = tmp_path / "data" / "BTC_USDT-1m.csv"
    if existing:
        assert _run(venue, tmp_path, *args, "--to", "2024-01-02").exit_code == 0
    before = path.read_bytes() if existing else None
    served = len(_klines(venue))
    # Page 4 of this run is held: the readiness signal that 3 pages are in the part file.
    venue.add_fault("timeout", method="GET", path=KLINES, skip=3, delay=DEADLINE_S)
    proc = _start(venue, tmp_path, *args, "--to", "2024-01-07")
    _wait_for(lambda: any(r.get("fault") for r in _klines(venue)[served:]), "the held page")
    part = path.with_name(path.name + ".part")
    assert len(part.read_text().splitlines()) == 1 + 3000  # the plan line, 3 whole pages
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == status, err
    if stop is signal.SIGINT:
        assert err.count("\n") == 1 and "rerun the same command to resume" in err, err
        assert "Traceback" not in err
    assert (path.read_bytes() if existing else not path.exists()) == (before or True)
    venue.clear_faults()

    resumed_from = len(_klines(venue))
    result = _run(venue, tmp_path, *args, "--to", "2024-01-07")
    assert result.exit_code == 0, result.stderr
    assert "(3000 of them from the interrupted run)" in result.stdout
    assert path.read_bytes() == expected
    assert not part.exists()
    first_start = int(str(_klines(venue)[resumed_from]["startTime"]))
    held_back = 1_440 if existing else 0
    # just after the last candle kept in the part: no page fetched twice
    assert first_start == 1_704_067_200_000 + (held_back + 2999) * 60_000 + 1


def test_throttling_and_dropped_connections_are_retried(
    venue: EmulatorHandle, tmp_path: Path
) -> None:
    expected = _reference(venue, tmp_path, "--symbols", "BTC/USDT", *FOUR_DAYS)
    venue.add_fault("status", path=KLINES, status=429, retry_after="1", skip=1)
    venue.add_fault("status", path=KLINES, status=418, retry_after="1", skip=2)
    venue.add_fault("drop", path=KLINES, skip=3, accept=False)
    result = _run(venue, tmp_path, "--symbols", "BTC/USDT", *FOUR_DAYS)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "data" / "BTC_USDT-1m.csv").read_bytes() == expected
    faults = [r.get("fault") for r in _klines(venue) if r.get("fault")]
    assert faults == ["status", "status", "drop"]
    log = _klines(venue)
    statuses = [r.get("status") for r in log if r.get("fault") == "status"]
    assert statuses == [429, 418]
    throttled = next(i for i, r in enumerate(log) if r.get("status") == 429)
    waited_ms = int(str(log[throttled + 1]["time"])) - int(str(log[throttled]["time"]))
    assert waited_ms >= 1000  # Retry-After: 1, not the 0.5 s first backoff


def test_an_error_that_will_not_heal_is_one_line_and_leaves_the_file_intact(
    venue: EmulatorHandle, tmp_path: Path
) -> None:
    args = ["--symbols", "BTC/USDT", "--timeframe", "1m", "--from", "2024-01-01"]
    assert _run(venue, tmp_path, *args, "--to", "2024-01-02").exit_code == 0
    path = tmp_path / "data" / "BTC_USDT-1m.csv"
    before = path.read_bytes()
    venue.add_fault(
        "status", path=KLINES, status=400, code=-1121, msg="Invalid symbol.", skip=1, times=None
    )
    result = _run(venue, tmp_path, *args, "--to", "2024-01-05")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "binance refused BTC/USDT 1m candles" in result.stderr
    assert "rerun to resume" in result.stderr
    assert path.read_bytes() == before
    assert len([r for r in _klines(venue) if r.get("fault")]) == 1  # not retried


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param(
            ["--exchange", "binanse"],
            "'binanse' is not an exchange ccxt knows (did you mean binance?)",
            id="unknown_exchange",
        ),
        pytest.param(
            ["--symbols", "BTC/USDX"],
            "BTC/USDX is not a market on binance (did you mean BTC/USDT?)",
            id="unknown_symbol",
        ),
        pytest.param(
            ["--timeframe", "7m"], "'7m' is not offered by binance: 1s, 1m, 3m", id="timeframe"
        ),
        pytest.param(
            ["--to", "2023-12-31"],
            "--from 2024-01-01 is not before --to 2023-12-31",
            id="from_after_to",
        ),
        pytest.param(["--to", "2024-13-01"], "--to '2024-13-01' is not a date", id="bad_date"),
        pytest.param(["--from", "2999-01-01"], "is in the future", id="future"),
        pytest.param(
            ["--datadir", "blocker/data"],
            "--datadir blocker/data is not a writable directory",
            id="datadir",
        ),
        pytest.param(
            ["--liquidations"], "binance publishes no liquidation history", id="liquidations"
        ),
    ],
)
def test_bad_input_is_one_line(
    venue: EmulatorHandle, tmp_path: Path, args: list[str], problem: str
) -> None:
    (tmp_path / "blocker").write_text("a file where the data directory would go")
    base = {"--symbols": "BTC/USDT", "--timeframe": "1m", "--from": "2024-01-01"}
    flags = [a for a in args if a.startswith("--")]
    given = [x for k, v in base.items() if k not in flags for x in (k, v)]
    result = _run(venue, tmp_path, *given, *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("qtbot: ") and result.stderr.count("\n") == 1, result.stderr
    assert problem in result.stderr
    assert not (tmp_path / "data").exists()
    assert _klines(venue) == []


def test_the_first_download_of_a_symbol_needs_from(venue: EmulatorHandle, tmp_path: Path) -> None:
    result = _run(venue, tmp_path, "--symbols", "BTC/USDT", "--timeframe", "1m")
    assert result.exit_code == 2
    assert result.stderr == "qtbot: --from is needed for the first download of BTC/USDT 1m\n"
