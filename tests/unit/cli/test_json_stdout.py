"""Every command with `--json` writes JSON and nothing else to stdout (log lines and warnings
go to stderr), so `qtbot X --json | jq` works. The list of commands is read from the CLI
itself: a new `--json` command without a case here fails `test_every_json_command_is_run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer.main

from bot.cli.main import app
from bot.state.store import Store
from tests.conftest import run_qtbot

START = datetime(2024, 8, 1, tzinfo=UTC)
SHIPPED_FED = Path(__file__).resolve().parents[3] / "bot" / "data"
UNREACHABLE = {"QTBOT_EXCHANGE__REST_URL": "http://127.0.0.1:9"}  # nothing listens there


def _candles(directory: Path) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    for day in range(90):
        ts = int((START + timedelta(days=day)).timestamp() * 1000)
        close = 60000 + 200 * day
        lines.append(f"{ts},{close},{close * 1.01},{close * 0.99},{close},1")
    path = directory / "BTC_USDT-1d.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# command words -> (extra arguments, exit statuses allowed); "{candles}" is a small CSV.
CASES: dict[tuple[str, ...], tuple[list[str], set[int]]] = {
    ("config",): ([], {0}),
    ("status",): ([], {0}),
    ("doctor",): ([], {1}),  # the venue is unreachable: failing checks, still JSON
    ("regime",): ([], {0}),
    ("regime", "history"): (["--from", "2024-01-01"], {0}),
    ("liquidations",): ([], {0}),
    ("backtest",): (["--candles", "{candles}"], {0}),
    ("thesis",): (["--candles", "{candles}", "--fed-data", str(SHIPPED_FED)], {0}),
    ("trades",): ([], {0}),
    ("profit",): ([], {0}),
    ("journal",): ([], {0}),
    # Too little history for a walk-forward window: refused in one line, stdout empty.
    ("sweep",): (["--candles", "{candles}", "--trials", "1"], {0, 2}),
}


def _json_commands() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()

    def walk(command: object, path: tuple[str, ...]) -> None:
        options = {o for p in getattr(command, "params", []) for o in getattr(p, "opts", [])}
        if "--json" in options:
            found.add(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_every_json_command_is_run() -> None:
    assert _json_commands() == set(CASES)


@pytest.mark.parametrize("words", sorted(CASES), ids=lambda words: "-".join(words))
def test_json_output_is_the_only_thing_on_stdout(words: tuple[str, ...], workdir: Path) -> None:
    extra, statuses = CASES[words]
    candles = _candles(workdir)
    args = [a.replace("{candles}", candles) for a in extra]
    # A database with a row in it (the commands read a real store, not "no database yet").
    store = Store.open(f"sqlite:///{(workdir / 'data' / 'qtbot.sqlite').as_posix()}")
    store.set_risk_off(True, START, "paused by the test")
    store.close()
    result = run_qtbot(*words, *args, "--json", cwd=workdir, env=UNREACHABLE)
    assert result.returncode in statuses, result.stderr[-2000:]
    if result.returncode == 0 or words == ("doctor",):
        json.loads(result.stdout)
    else:
        assert result.stdout == "" and result.stderr.startswith("qtbot: ")


def test_regime_history_json_with_fred_down_logs_each_warning_once_on_stderr(
    workdir: Path,
) -> None:
    env = {"QTBOT_SIGNALS__FED_SOURCE": "fred", "QTBOT_SIGNALS__FRED_URL": "http://127.0.0.1:9/f"}
    result = run_qtbot("regime", "history", "--json", cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert any("FRED unavailable" in w for w in data["warnings"])
    # The warnings are in the JSON; they are not logged a second time.
    assert "fred_series_unavailable" not in result.stderr
    assert result.stderr == ""
