"""The real `qtbot` CLI on a damaged, a blank and a brand-new database: one line and a non-zero
exit for damage, "not yet" for a blank file, and many commands at once on a new file."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot.state.db import schema_head
from bot.state.store import Store
from tests.conftest import qtbot_cmd, run_qtbot, subprocess_env


def _database(workdir: Path) -> Path:
    return workdir / "data" / "qtbot.sqlite"


def _execute(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def paused(workdir: Path) -> Path:
    """A real database made by the CLI (`qtbot pause` creates and migrates it)."""
    assert run_qtbot("pause", cwd=workdir).returncode == 0
    return _database(workdir)


def _one_line_refusal(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("qtbot:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qtbot: database error: ")
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("DROP TABLE order_intent", ["table(s) order_intent missing", "restore the database"]),
        (
            "ALTER TABLE fill DROP COLUMN fee_asset",
            ["table fill lacks column(s) fee_asset", "QTBOT_DATABASE_URL at a new file"],
        ),
        (
            "INSERT INTO equity_point (at, equity, cash) "
            "VALUES ('2025-12-01 12:00:00.000000', 'ten thousand', NULL)",
            ["equity_point row at='2025-12-01T12:00:00+00:00' has equity='ten thousand'"],
        ),
    ],
    ids=["dropped-table", "dropped-column", "text-amount"],
)
def test_a_damaged_database_is_one_line_for_status_and_run(
    workdir: Path, paused: Path, damage: str, expected: list[str]
) -> None:
    _execute(paused, damage)
    for command in ("status", "run"):
        _one_line_refusal(run_qtbot(command, cwd=workdir), "the database is damaged", *expected)


def test_a_damaged_page_is_one_line_for_status_and_run(workdir: Path, paused: Path) -> None:
    store = Store.open(f"sqlite:///{paused}")
    with store.engine.begin() as conn:  # enough rows for leaf pages besides each table's root
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
            "INSERT INTO journal (at, kind, level, message, data) "
            "SELECT '2025-12-01 12:00:00', 'filler', 'info', printf('%.200c', 'x'), '{}' FROM n"
        )
    store.close()
    with sqlite3.connect(paused) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        roots = {
            row[0] for row in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage")
        }
    data = bytearray(paused.read_bytes())
    leaf = next(
        n
        for n in range(len(data) // page_size, 1, -1)
        if n not in roots and data[(n - 1) * page_size] == 0x0D
    )
    start = (leaf - 1) * page_size
    data[start + 8 : start + 10] = (page_size - 1).to_bytes(2, "big")  # a cell off the page
    paused.write_bytes(data)
    for command in ("status", "run"):
        result = run_qtbot(command, cwd=workdir)
        _one_line_refusal(result, "the database file is damaged (SQLite quick_check: ", "restore")


@pytest.mark.parametrize("blank", ["empty-file", "sqlite-without-tables"])
def test_status_on_a_blank_database_says_not_yet_and_leaves_it_alone(
    workdir: Path, blank: str
) -> None:
    """What `qtbot status` sees while a starting daemon is creating the database."""
    path = _database(workdir)
    path.parent.mkdir()
    if blank == "empty-file":
        path.touch()
    else:
        sqlite3.connect(path).close()
    result = run_qtbot("status", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "heartbeat: never (no database yet" in result.stdout
    assert path.stat().st_size == 0
    assert sorted(p.name for p in path.parent.iterdir()) == ["qtbot.sqlite"]


def test_many_commands_at_once_on_a_new_database_all_succeed(workdir: Path) -> None:
    env = {**subprocess_env(), "PATH": "/usr/bin:/bin"}
    commands = ["pause", "status", "resume", "status"]
    procs = [
        subprocess.Popen(
            qtbot_cmd(command),
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    try:
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    failures = [
        (command, proc.returncode, err)
        for command, proc, (_, err) in zip(commands, procs, results, strict=True)
        if proc.returncode != 0 or "Traceback" in err
    ]
    assert failures == []
    with sqlite3.connect(_database(workdir)) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert sorted(versions) == list(range(1, schema_head() + 1))
