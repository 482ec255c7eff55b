"""Suite-wide fixtures. The no-network rule lives in tests/no_network.py (loaded from pyproject)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _no_stray_qtbot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own QTBOT_* variables must not change test outcomes."""
    for name in list(os.environ):
        if name.upper().startswith("QTBOT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory (no .env) with state under it."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def qtbot_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def subprocess_env() -> dict[str, str]:
    """Environment for a `qtbot` child: importable repo, no network, no external feeds."""
    return {
        # sitecustomize in tests/netguard installs the same no-network guard as the suite.
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "netguard")]),
        "QTBOT_SIGNALS__FED_SOURCE": "file",
        "QTBOT_SIGNALS__LIQUIDATION_FEEDS": "none",
    }


def run_qtbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would. The timeout is tests.daemon_process's
    DEADLINE (not imported: that module imports this one): only a hang reaches it."""
    full_env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QTBOT_")}
    full_env.update(subprocess_env())
    full_env.update(env or {})
    return subprocess.run(
        qtbot_cmd(*args), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """xdist groups, for `make test`'s `--dist loadgroup`. The `serial` campaigns share one
    group: one after another on one worker, never two campaigns at once; moved to the front
    (`--no-loadscope-reorder` keeps that order), they are handed out first, so the longest work
    does not start last while the other worker idles. Every other test is grouped by module:
    a module-scoped fixture (a daemon run, a real-data backtest) is built once, not once per
    worker, and xdist hands out a module at a time (one test at a time, its round trips left
    the cores idle). tryfirst: the marks must be on the items before xdist turns them into the
    node ids' `@group` suffix."""
    for item in items:
        serial = item.get_closest_marker("serial") is not None
        item.add_marker(pytest.mark.xdist_group("serial" if serial else item.nodeid.split("::")[0]))
    items.sort(key=lambda item: item.get_closest_marker("serial") is None)  # stable
