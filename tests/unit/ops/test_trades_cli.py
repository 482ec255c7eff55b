"""`qtbot trades`, `profit` and `journal` as a user runs them: people's text, JSON alone on
stdout with --json, bad input in one line with exit 2, no database yet said plainly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.unit.ops.trade_fixture import build_lifecycle


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-lifecycle")
    build_lifecycle(path).store.close()
    return path


@pytest.fixture
def qtbot(data_dir: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QTBOT_DATA_DIR", str(data_dir))

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args))

    return invoke


def test_trades_table_for_people(qtbot) -> None:
    result = qtbot("trades")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["symbol", "entry", "(UTC)"]
    assert "+2,051.14" in lines[1] and "+34.77 %" in lines[1] and "trailing" in lines[1]
    assert "hard stop" in lines[2] and "panic" in lines[3]
    assert "3 closed trades, 1 won" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("trades", "--json"), id="trades"),
        pytest.param(("trades", "--json", "--since", "2026-03-06"), id="trades_since"),
        pytest.param(("profit", "--json"), id="profit"),
        pytest.param(("journal", "--json", "--kind", "take_profit,fill"), id="journal"),
    ],
)
def test_json_is_the_only_thing_on_stdout(qtbot, args: tuple[str, ...]) -> None:
    result = qtbot(*args)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)


def test_trades_since_filters_by_exit(qtbot) -> None:
    rows = json.loads(qtbot("trades", "--json", "--since", "2026-03-06").stdout)
    assert [(r["symbol"], r["reason"]) for r in rows] == [
        ("BTC/USDT", "hard stop"),
        ("ETH/USDT", "panic"),
    ]


def test_profit_for_people_says_how_old_the_price_is(qtbot) -> None:
    result = qtbot("profit")
    assert result.exit_code == 0, result.output
    assert "realised:       +1,867.16" in result.stdout
    assert "buy & hold:     +2,258.33" in result.stdout
    btc = next(line for line in result.stdout.splitlines() if line.startswith("BTC/USDT"))
    assert "old, risk job" in btc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("trades", "--since", "last week"), "--since 'last week'", id="since"),
        pytest.param(("journal", "--since", "3x"), "--since '3x'", id="journal_since"),
        pytest.param(("journal", "--symbol", "BTCUSDT"), "BASE/QUOTE", id="symbol"),
        pytest.param(("journal", "--limit", "0"), "--limit 0 is out of range", id="limit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(qtbot, args: tuple[str, ...], message: str) -> None:
    result = qtbot(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_unknown_kind_lists_the_kinds_recorded(qtbot) -> None:
    result = qtbot("journal", "--json", "--kind", "order_intnet")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "no entries of kind order_intnet (did you mean order_intent?)" in result.stderr
    assert "kinds recorded: fill, order_intent" in result.stderr


def test_journal_symbol_is_case_insensitive(qtbot) -> None:
    rows = json.loads(qtbot("journal", "--json", "--symbol", "eth/usdt").stdout)
    assert rows and {r["symbol"] for r in rows} == {"ETH/USDT"}


def test_no_database_yet(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTBOT_DATA_DIR", str(workdir / "empty"))
    result = CliRunner().invoke(app, ["trades", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert "no database yet" in result.stderr
    assert not (workdir / "empty" / "qtbot.sqlite").exists()
