"""Paths and skips shared by the signals tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signals"
# QTBOT_SHARED_DATA lets a run pretend the shared data is elsewhere (or absent)
# Default: ../shared/data beside the checkout, as CI lays it out.
SHARED_DATA = Path(
    os.environ.get(
        "QTBOT_SHARED_DATA", str(Path(__file__).resolve().parents[3].parent / "shared" / "data")
    )
)


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path
