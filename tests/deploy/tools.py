"""Locating the optional linters the deploy tests use; each test skips when its tool is absent."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def tool(name: str) -> str | None:
    """`name` on PATH or next to the running interpreter (pip-installed linters land there)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name)
