"""Every setting, given a bad value, stops `qtbot config` with exit 2 and one line naming it.

The table comes from `tests.badinput.cases` (generated from `bot.config.settings.env_names()`
fields' types and bounds). Each case runs through the CLI in-process (typer's runner: the same
`app`, fast enough for a case each); the real `python -m bot config` subprocess runs the cases
in rounds (each variable once per round, one line each) and every cross-field combination.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.badinput.cases import CROSS, BadCase, all_cases, rounds, uncovered_names
from tests.conftest import run_qtbot

PREFIX = "qtbot: config error: "
LINE = re.compile(r"^qtbot: config error: .*QTBOT_[A-Z0-9_]+")
CASES = all_cases()


def _param(case: BadCase) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.case_id, marks=marks)


def _names(line: str, name: str) -> bool:
    """`name` as a whole variable name (QTBOT_X__BUDGET is not in QTBOT_X__BUDGET_MODE)."""
    return re.search(re.escape(name) + r"(?![A-Z0-9_])", line) is not None


def check_output(code: int, stdout: str, stderr: str, expected: list[tuple[str, ...]]) -> None:
    """Exit 2, nothing on stdout, no traceback, one line per problem naming its variables."""
    assert "Traceback" not in stderr, stderr
    assert code == 2, (code, stderr)
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == len(expected), lines
    assert all(LINE.match(line) for line in lines), lines
    for names in expected:
        hits = [line for line in lines if all(_names(line, n) for n in names)]
        assert len(hits) == 1, (names, lines)
        if len(names) == 1 and not names[0].endswith("LIVE_CONFIRM"):
            # A one-variable problem starts with the variable: QTBOT_X=value: why
            assert hits[0].startswith(f"{PREFIX}{names[0]}="), hits[0]


def test_every_setting_has_a_bad_input_case_or_a_reason_why_not() -> None:
    assert uncovered_names() == []


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_setting_is_refused_with_one_line_naming_it(
    case: BadCase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["config"], env=case.env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(f"{type(result.exception).__name__}: {result.exception}")
    check_output(result.exit_code, result.stdout, result.stderr, [case.names])
    for name, value in case.env.items():
        if "URLS" in name or "KEY" in name or "SECRET" in name:
            assert value not in result.stderr  # secrets are never echoed


@pytest.mark.parametrize("index", range(len(rounds(CASES))))
def test_real_cli_reports_every_bad_variable_of_a_round(index: int, tmp_path: Path) -> None:
    batch = rounds(CASES)[index]
    env: dict[str, str] = {}
    for case in batch:
        env.update(case.env)
    result = run_qtbot("config", cwd=tmp_path, env=env)
    check_output(result.returncode, result.stdout, result.stderr, [c.names for c in batch])


@pytest.mark.parametrize("case", [_param(c) for c in CROSS if not c.xfail])
def test_real_cli_refuses_inconsistent_combinations(case: BadCase, tmp_path: Path) -> None:
    result = run_qtbot("config", cwd=tmp_path, env=case.env)
    check_output(result.returncode, result.stdout, result.stderr, [case.names])
