"""Bad files and places, through the real CLI: one clear line, a non-zero exit, no traceback.

Malformed Fed data files, corrupted or foreign databases, a data directory that cannot be
created (a path under a regular file: the suite runs as root, so permissions would not stop
it), unreadable or missing env files.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.signals.fred import FredParseError, load_fred_csv
from tests.conftest import REPO, run_qtbot

FRED_FIXTURES = REPO / "tests" / "fixtures" / "signals" / "fred"
SHIPPED = REPO / "bot" / "data"


@dataclass(frozen=True)
class Scenario:
    args: tuple[str, ...]
    env: dict[str, str]
    says: tuple[str, ...]  # fragments the one line must contain


Setup = Callable[[Path], Scenario]


def _fred_dir(tmp: Path, bad_fixture: str) -> Scenario:
    fred = tmp / "fred"
    fred.mkdir()
    for name in ("WALCL.csv", "DFF.csv", "DFEDTARU.csv", "DFEDTARL.csv"):
        shutil.copy(SHIPPED / name, fred / name)
    shutil.copy(FRED_FIXTURES / bad_fixture, fred / "WALCL.csv")
    return Scenario(
        ("regime",),
        {"QTBOT_SIGNALS__FED_SOURCE": "file", "QTBOT_SIGNALS__FED_DATA_DIR": str(fred)},
        (str(fred / "WALCL.csv"), "line"),
    )


def _corrupt_db(tmp: Path) -> Scenario:
    (tmp / "data").mkdir()
    (tmp / "data" / "qtbot.sqlite").write_bytes(bytes(range(256)) * 64)
    return Scenario(("run", "--once"), {}, ("database error", "not a database"))


def _corrupt_db_status(tmp: Path) -> Scenario:
    scenario = _corrupt_db(tmp)
    return Scenario(("status",), scenario.env, scenario.says)


def _truncated_db(tmp: Path) -> Scenario:
    (tmp / "data").mkdir()
    source = tmp / "whole.sqlite"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    conn.commit()
    conn.close()
    (tmp / "data" / "qtbot.sqlite").write_bytes(source.read_bytes()[:3000])
    return Scenario(("pause",), {}, ("database error",))


def _foreign_db(tmp: Path) -> Scenario:
    (tmp / "data").mkdir()
    conn = sqlite3.connect(tmp / "data" / "qtbot.sqlite")
    conn.execute("CREATE TABLE users (id INTEGER)")
    conn.commit()
    conn.close()
    return Scenario(("status",), {}, ("not a qtbot database",))


def _newer_schema(tmp: Path) -> Scenario:
    (tmp / "data").mkdir()
    conn = sqlite3.connect(tmp / "data" / "qtbot.sqlite")
    conn.execute("CREATE TABLE schema_version (version INTEGER, applied_at TEXT, note TEXT)")
    conn.execute("INSERT INTO schema_version VALUES (999, '2030-01-01', 'future')")
    conn.commit()
    conn.close()
    return Scenario(("pause",), {}, ("schema version 999",))


def _db_is_a_directory(tmp: Path, command: tuple[str, ...]) -> Scenario:
    (tmp / "data" / "qtbot.sqlite").mkdir(parents=True)
    return Scenario(command, {}, ("is a directory",))


def _data_dir_under_a_file(tmp: Path, command: tuple[str, ...]) -> Scenario:
    (tmp / "afile").write_text("not a directory")
    data = tmp / "afile" / "data"
    return Scenario(command, {"QTBOT_DATA_DIR": str(data)}, (str(data),))


def _env_file_not_utf8(tmp: Path) -> Scenario:
    (tmp / "bad.env").write_bytes(b"QTBOT_RISK__STOP_LOSS_PCT=5\n\xe9\xff\xfe junk\n")
    return Scenario(("config", "--env-file", "bad.env"), {}, ("bad.env",))


def _env_file_junk_lines(tmp: Path) -> Scenario:
    (tmp / "junk.env").write_text("QTBOT_RISK__STOP_LOSS_PCT=5\n===\n")
    return Scenario(("config", "--env-file", "junk.env"), {}, ("junk.env", "line 2"))


def _env_file_missing(tmp: Path) -> Scenario:
    return Scenario(("config", "--env-file", "missing.env"), {}, ("missing.env",))


def _param(setup: Setup, case_id: str, xfail: str | None = None) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(setup, id=case_id, marks=marks)


SCENARIOS = [
    _param(lambda t: _fred_dir(t, "malformed_value.csv"), "fred_value"),
    _param(lambda t: _fred_dir(t, "not_csv.html"), "fred_html_page"),
    _param(_corrupt_db, "corrupt_db_run"),
    _param(_corrupt_db_status, "corrupt_db_status"),
    _param(_truncated_db, "truncated_db_pause"),
    _param(_foreign_db, "foreign_db_status"),
    _param(_newer_schema, "db_from_a_newer_qtbot"),
    _param(lambda t: _db_is_a_directory(t, ("run", "--once")), "db_path_is_a_directory_run"),
    _param(lambda t: _db_is_a_directory(t, ("status",)), "db_path_is_a_directory_status"),
    _param(lambda t: _data_dir_under_a_file(t, ("pause",)), "data_dir_uncreatable_pause"),
    _param(lambda t: _data_dir_under_a_file(t, ("run", "--once")), "data_dir_uncreatable_run"),
    _param(_env_file_not_utf8, "env_file_not_utf8"),
    _param(_env_file_junk_lines, "env_file_unparsable_lines"),
    _param(_env_file_missing, "env_file_given_but_missing"),
]


@pytest.mark.parametrize("setup", SCENARIOS)
def test_bad_file_or_place_gives_one_clear_line_and_a_failure_exit(
    setup: Setup, tmp_path: Path
) -> None:
    scenario = setup(tmp_path)
    result = run_qtbot(*scenario.args, cwd=tmp_path, env=scenario.env)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("qtbot: "), lines
    for fragment in scenario.says:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        pytest.param("malformed_value.csv", 3, id="value"),
        pytest.param("malformed_date.csv", 3, id="date"),
        pytest.param("malformed_order.csv", 3, id="order"),
        pytest.param("malformed_columns.csv", 3, id="columns"),
    ],
)
def test_fred_parse_errors_name_the_file_and_the_line(fixture: str, line: int) -> None:
    path = FRED_FIXTURES / fixture
    with pytest.raises(FredParseError) as caught:
        load_fred_csv(str(path), "WALCL")
    assert str(path) in str(caught.value) and f"line {line}" in str(caught.value)
