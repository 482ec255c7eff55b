"""The command line's own surface: `--version`, `-h` everywhere, flags printed as flags,
`config --diff`, and `panic --yes` with nothing to sell saying that entries are now paused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli.main import app
from tests.conftest import REPO, run_qtbot


def _all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == "qtbot 0.1.0\n"


@pytest.mark.parametrize("words", _all_commands(), ids=lambda w: "-".join(w) or "qtbot")
def test_every_command_takes_dash_h_and_shows_flags_as_flags(words: tuple[str, ...]) -> None:
    short = CliRunner().invoke(app, [*words, "-h"])
    assert short.exit_code == 0, short.output
    assert short.output.startswith("Usage: "), short.output
    assert short.output == CliRunner().invoke(app, [*words, "--help"]).output
    assert "<bool>" not in short.output  # `--json`, not `--json <bool>`
    assert "-h, --help" in short.output


def test_config_diff_prints_only_what_differs_secrets_masked(workdir: Path) -> None:
    env = {
        "QTBOT_RISK__STOP_LOSS_PCT": "off",
        "QTBOT_DAEMON__HEARTBEAT_SECONDS": "45",
        "QTBOT_SIGNALS__FRED_API_KEY": "fredkey-1234567890abcdef",
        "QTBOT_SIGNALS__FED_SOURCE": "fred",
    }
    result = run_qtbot("config", "--diff", cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # subprocess_env() also sets the liquidation feeds to none for every test run.
    assert sorted(lines) == sorted(
        [
            "QTBOT_RISK__STOP_LOSS_PCT=off",
            "QTBOT_DAEMON__HEARTBEAT_SECONDS=45",
            "QTBOT_SIGNALS__FRED_API_KEY=***",
            "QTBOT_SIGNALS__LIQUIDATION_FEEDS=none",
        ]
    ), result.stdout
    assert "fredkey" not in result.stdout + result.stderr
    full = run_qtbot("config", cwd=workdir, env=env).stdout.splitlines()
    assert set(lines) <= set(full)  # the same KEY=value form as `qtbot config`


def test_config_diff_with_every_default_says_so(workdir: Path) -> None:
    env = {"QTBOT_SIGNALS__LIQUIDATION_FEEDS": "", "QTBOT_SIGNALS__FED_SOURCE": ""}
    result = run_qtbot("config", "--diff", "--json", cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{}"


def test_panic_with_nothing_to_sell_says_entries_are_paused(workdir: Path) -> None:
    env = {"QTBOT_EXCHANGE__REST_URL": "http://127.0.0.1:9"}
    result = run_qtbot("panic", "--yes", cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr
    assert "new entries are now paused" in result.stdout
    assert "qtbot resume" in result.stdout
    status = run_qtbot("status", cwd=workdir)
    assert "entries:   PAUSED (risk-off)" in status.stdout


HEAVY = ("pydantic", "pydantic_settings", "sqlalchemy", "sqlmodel", "ccxt", "numpy", "rich")


def test_starting_the_cli_imports_no_heavy_library(workdir: Path) -> None:
    """`qtbot --help` stays fast (benchmarks/bench_startup.py) only while the modules loaded
    at start-up leave settings, the store, ccxt, numpy and rich to the commands that use them."""
    code = (
        "import sys, bot.cli.main; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
