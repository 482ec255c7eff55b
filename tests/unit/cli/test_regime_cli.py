"""`qtbot regime` and `qtbot regime history` name the Fed action behind each pivot; an old
.env that still sets the retired rate window gets one line saying so."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from bot.signals.calendar import load_fomc_calendar
from bot.signals.fed_announcements import load_announcements
from tests.conftest import run_qtbot

ACTION = re.compile(r"^(FOMC|announcement) (\d{4}-\d{2}-\d{2}): ")


def _fed_action_days() -> set[str]:
    """Decision days and announcement effective days of the shipped files."""
    fomc = {d.day.isoformat() for d in load_fomc_calendar().decisions}
    return fomc | {a.effective.isoformat() for a in load_announcements()}


def test_history_json_names_the_fed_action_of_every_pivot(workdir: Path) -> None:
    result = run_qtbot("regime", "history", "--from", "2019-01-01", "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    action_days = _fed_action_days()
    assert len(data["pivots"]) >= 5
    for pivot in data["pivots"]:
        assert pivot["date"] in action_days, pivot
        assert pivot["changes"], pivot
        for change, cause in zip(pivot["changes"], pivot["causes"], strict=True):
            assert change["action_date"] == pivot["date"]
            assert change["action_kind"] in ("fomc", "announcement")
            assert cause.startswith(change["action"])
    for period in data["periods"][1:]:
        assert all(c["action_date"] == period["start"] for c in period["started_by"]), period
    by_date = {p["date"]: p["causes"] for p in data["pivots"]}
    assert by_date["2024-09-18"] == ["FOMC 2024-09-18: cut 50 bp; rate hiking -> cutting"]
    assert "2025-06-27" not in by_date and "2026-06-19" not in by_date


def test_history_table_prints_the_cause_under_each_pivot(workdir: Path) -> None:
    result = run_qtbot("regime", "history", "--from", "2019-01-01", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-2:] == ["started", "by"]
    pivots_at = lines.index("pivots (each on the day of the Fed action that caused it):")
    pivot_lines = [i for i in range(pivots_at + 1, len(lines)) if "->" in lines[i][:40]]
    assert len(pivot_lines) >= 5
    for i in pivot_lines:
        day = lines[i].split()[0]
        date.fromisoformat(day)
        cause = ACTION.match(lines[i + 1].strip())
        assert cause is not None and cause.group(2) == day, lines[i : i + 2]


def test_current_regime_says_which_actions_set_it(workdir: Path) -> None:
    result = run_qtbot("regime", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rate = next(line for line in lines if line.startswith("rate set by:"))
    assert ACTION.match(rate.removeprefix("rate set by:").strip())
    pivot = next(i for i, line in enumerate(lines) if line.startswith("last pivot:"))
    pivot_day = lines[pivot].split()[2]
    cause = ACTION.match(lines[pivot + 1].removeprefix("  caused by:").strip())
    assert cause is not None and cause.group(2) == pivot_day


def test_an_old_env_setting_the_rate_window_gets_one_clear_line(workdir: Path) -> None:
    (workdir / ".env").write_text("QTBOT_SIGNALS__RATE_WINDOW_DAYS=190\n")
    result = run_qtbot("regime", cwd=workdir)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("qtbot: config error: QTBOT_SIGNALS__RATE_WINDOW_DAYS='190': retired")
    assert "FOMC decisions" in line and "delete this line" in line
    (workdir / ".env").write_text("QTBOT_SIGNALS__RATE_WINDOW_DAYS=\n")
    assert run_qtbot("regime", "--json", cwd=workdir).returncode == 0
