"""Pytest fixture `emulator`: a fresh loopback Binance emulator per test.

Use it with `pytest_plugins = ["tests.emulator.fixtures"]` in a conftest, or import
`emulator` into a test module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.client import EmulatorHandle, start_emulator


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    handle = start_emulator()
    try:
        yield handle
    finally:
        handle.stop()
